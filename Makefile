# Thin wrapper over CMake. Every target runs scripts/setup first (idempotent).
#   make          build everything into build/ (binaries in build/bin/)
#   make test     ASan+UBSan build in build-test/, warnings as errors, run every test
#   make demo     build, then run the whole pipeline on the bundled clips
#   make bench    optimised build in build-bench/, run the benchmarks (BENCH lines)
BUILD      ?= build
TEST_BUILD ?= build-test
BENCH_BUILD?= build-bench
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all setup build test demo bench clean
all: build

setup:
	@scripts/setup

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: setup
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DRUTH_SANITIZE=ON -DRUTH_WERROR=ON -DRUTH_FUZZ=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS)

demo: build
	BUILD=$(BUILD) scripts/demo

bench: setup
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >/dev/null
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	cmake -S . -B $(BENCH_BUILD)-notap -DCMAKE_BUILD_TYPE=Release -DVAS_FRAME_TAP=OFF -DBUILD_TESTING=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(BENCH_BUILD)-notap -j $(JOBS) --target vasd
	BUILD=$(BENCH_BUILD) scripts/bench

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(BENCH_BUILD) $(BENCH_BUILD)-notap

# Tests of part: ipc (see tests/CMakeLists.txt)
# The Phase 4.1 codec (byte vectors, malformed input, round-trip property), the
# blocking client against a forked in-test server, and the decoder fuzz target.
ruth_add_test(NAME test_ipc_codec SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ipc_codec.c
              LIBS ruth_ipc LABELS ipc TIMEOUT 60)
ruth_add_test(NAME test_ipc_client SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_ipc_client.c
              LIBS ruth_ipc LABELS ipc TIMEOUT 60)

# The fuzz source as a plain replay driver, built by the project's compiler
# (gcc here) with the project's sanitizers: the seed corpus is replayed by
# every build, clang or not.
set(RUTH_IPC_CORPUS ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus_ipc)
add_executable(fuzz_ipc_replay ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ipc_decode.c
               ${CMAKE_SOURCE_DIR}/src/ipc/codec.c)
target_compile_definitions(fuzz_ipc_replay PRIVATE RUTH_FUZZ_REPLAY)
target_include_directories(fuzz_ipc_replay PRIVATE ${CMAKE_SOURCE_DIR}/include)
add_test(NAME test_ipc_fuzz_replay COMMAND fuzz_ipc_replay ${RUTH_IPC_CORPUS})
set_tests_properties(test_ipc_fuzz_replay PROPERTIES ENVIRONMENT "${RUTH_TEST_ENV}" TIMEOUT 60 LABELS ipc)

# libFuzzer proper (RUTH_FUZZ=ON). libFuzzer needs clang; when the project is
# built with another compiler, a separate clang invocation builds the target
# from the two sources alone (codec.c depends on nothing but libc for this).
if(RUTH_FUZZ)
  set(RUTH_FUZZ_IPC_BIN ${CMAKE_BINARY_DIR}/bin/fuzz_ipc_decode)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    add_executable(fuzz_ipc_decode ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ipc_decode.c
                   ${CMAKE_SOURCE_DIR}/src/ipc/codec.c)
    target_include_directories(fuzz_ipc_decode PRIVATE ${CMAKE_SOURCE_DIR}/include)
    target_compile_options(fuzz_ipc_decode PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_ipc_decode PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    find_program(RUTH_CLANG NAMES clang clang-14 clang-15 clang-16 REQUIRED)
    add_custom_command(
      OUTPUT ${RUTH_FUZZ_IPC_BIN}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/bin
      COMMAND ${RUTH_CLANG} -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
              -fno-sanitize-recover=undefined -I${CMAKE_SOURCE_DIR}/include
              ${CMAKE_SOURCE_DIR}/src/ipc/codec.c ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ipc_decode.c
              -o ${RUTH_FUZZ_IPC_BIN}
      DEPENDS ${CMAKE_SOURCE_DIR}/src/ipc/codec.c ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_ipc_decode.c
              ${CMAKE_SOURCE_DIR}/include/ruth/ipc.h
      COMMENT "clang libFuzzer build of fuzz_ipc_decode"
      VERBATIM)
    add_custom_target(fuzz_ipc_decode ALL DEPENDS ${RUTH_FUZZ_IPC_BIN})
  endif()
  # Bounded run: 20 s or 2M executions, on a scratch copy of the seed corpus
  # (libFuzzer writes new inputs into its corpus folder; the checked-in one
  # stays untouched).
  add_test(NAME test_ipc_fuzz_decode
           COMMAND bash -c "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; cp \"$1\"/* \"$d\"/; \"$0\" -max_total_time=20 -runs=4000000 -max_len=4096 -timeout=10 \"$d\""
                   ${RUTH_FUZZ_IPC_BIN} ${RUTH_IPC_CORPUS})
  set_tests_properties(test_ipc_fuzz_decode PROPERTIES ENVIRONMENT "${RUTH_TEST_ENV}" TIMEOUT 120 LABELS "ipc;fuzz")
endif()

# Benchmarks of part: runtime (see bench/CMakeLists.txt)
#   bench_ipc_roundtrip    stub-mode runtime round trip vs a raw Unix-socket ping-pong
#                          of the same byte sizes (target ratio <= 3)
#   bench_infer_overhead   blazeface-front end-to-end request latency vs ORT Run alone
#                          on the same preprocessed input (target ratio <= 1.10)
#   bench_rss_growth       runtime RSS after 100,000 requests vs after warm-up
#                          (target growth <= 1024 KiB)
# They start the real ruth-model-runtime with the test harness.
if(TARGET ruth-model-runtime)
  set(RUTH_RT_BENCH_HARNESS ${CMAKE_SOURCE_DIR}/tests/integration/runtime_harness.c)
  foreach(b ipc_roundtrip infer_overhead rss_growth)
    if(EXISTS ${CMAKE_SOURCE_DIR}/bench/bench_${b}.c)
      add_executable(bench_${b} ${CMAKE_SOURCE_DIR}/bench/bench_${b}.c ${RUTH_RT_BENCH_HARNESS})
      target_include_directories(bench_${b} PRIVATE ${CMAKE_SOURCE_DIR}/tests/integration ${CMAKE_SOURCE_DIR}/include)
      target_link_libraries(bench_${b} PRIVATE ruth_processing ruth_model ruth_ipc vas_export kcommon kmedia onnxruntime
                            PkgConfig::FFMPEG Threads::Threads m)
      add_dependencies(bench_${b} ruth-model-runtime)
    endif()
  endforeach()
endif()
include(processing_bench.cmake)

# Benchmarks of part: processing (included from bench/runtime.cmake)
#   bench_preprocess  1920x1080 NV12 -> 128x128 float NHWC normalised: fused
#                     ruth_preprocess_nv12 vs libswscale (SWS_BILINEAR) + a
#                     normalise loop (target ratio <= 0.5). Meaningful in Release.
add_executable(bench_preprocess ${CMAKE_SOURCE_DIR}/bench/bench_preprocess.c)
target_link_libraries(bench_preprocess PRIVATE ruth_processing PkgConfig::FFMPEG m)

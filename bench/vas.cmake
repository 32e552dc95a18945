# Benchmarks of part: vas (see bench/CMakeLists.txt)
#   bench_export_publish  publishing one 1920x1080 frame into the export vs a plain
#                         memcpy of the same 3,110,400 bytes (target ratio <= 1.3)
add_executable(bench_export_publish ${CMAKE_SOURCE_DIR}/bench/bench_export_publish.c)
target_link_libraries(bench_export_publish PRIVATE vas_export)

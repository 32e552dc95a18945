# Benchmarks of part: vas (see bench/CMakeLists.txt)

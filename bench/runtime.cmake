# Benchmarks of part: runtime (see bench/CMakeLists.txt)

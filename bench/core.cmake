# Benchmarks of part: core (see bench/CMakeLists.txt)

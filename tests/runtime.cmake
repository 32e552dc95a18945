# Tests of part: runtime (see tests/CMakeLists.txt)

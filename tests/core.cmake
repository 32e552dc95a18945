# Tests of part: core (see tests/CMakeLists.txt)

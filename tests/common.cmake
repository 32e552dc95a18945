# Tests of part: common (see tests/CMakeLists.txt)

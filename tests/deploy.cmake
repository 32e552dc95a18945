# Tests of part: deploy (see tests/CMakeLists.txt)

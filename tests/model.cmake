# Tests of part: model (see tests/CMakeLists.txt)

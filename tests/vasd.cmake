# Tests of part: vasd (see tests/CMakeLists.txt)

# Tests of part: processing (see tests/CMakeLists.txt)

# Tests of part: vas_export (see tests/CMakeLists.txt)

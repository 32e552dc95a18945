# Tests of part: egress (see tests/CMakeLists.txt)

# Tests of part: ipc (see tests/CMakeLists.txt)

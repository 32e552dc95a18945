# Tests of part: common (see tests/CMakeLists.txt)
# kcommon's JSON text primitives (src/common/json_buf.c).
ruth_add_test(NAME test_json_buf SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_json_buf.c
              LIBS kcommon LABELS common unit TIMEOUT 60)

# Tests of part: processing (see tests/CMakeLists.txt): preprocessing against a
# libswscale reference, the postprocessors on real models and images run with
# ONNX Runtime directly (no server), the handler loader, ruth-infer end to end.
set(PP_TEST_DIR ${CMAKE_SOURCE_DIR}/tests/unit)
add_library(ruth_pp_testutil STATIC ${PP_TEST_DIR}/test_pp_util.c)
target_link_libraries(ruth_pp_testutil PUBLIC ruth_processing PkgConfig::FFMPEG onnxruntime)
target_include_directories(ruth_pp_testutil PUBLIC ${PP_TEST_DIR})

ruth_add_test(NAME test_preprocess SOURCES ${PP_TEST_DIR}/test_preprocess.c
              LIBS ruth_pp_testutil LABELS processing TIMEOUT 120)

ruth_add_test(NAME test_pp_blazeface SOURCES ${PP_TEST_DIR}/test_pp_blazeface.c
              LIBS ruth_pp_testutil LABELS processing TIMEOUT 120)

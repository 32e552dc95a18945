# Tests of part: processing (see tests/CMakeLists.txt): preprocessing against a
# libswscale reference, the postprocessors on real models and images run with
# ONNX Runtime directly (no server), the handler loader, ruth-infer end to end.
set(PP_TEST_DIR ${CMAKE_SOURCE_DIR}/tests/unit)
add_library(ruth_pp_testutil STATIC ${PP_TEST_DIR}/test_pp_util.c)
target_link_libraries(ruth_pp_testutil PUBLIC ruth_processing kmedia PkgConfig::FFMPEG onnxruntime)
target_include_directories(ruth_pp_testutil PUBLIC ${PP_TEST_DIR})

ruth_add_test(NAME test_preprocess SOURCES ${PP_TEST_DIR}/test_preprocess.c
              LIBS ruth_pp_testutil LABELS processing TIMEOUT 120)

ruth_add_test(NAME test_pp_blazeface SOURCES ${PP_TEST_DIR}/test_pp_blazeface.c
              LIBS ruth_pp_testutil LABELS processing TIMEOUT 120)

ruth_add_test(NAME test_pp_dbnet SOURCES ${PP_TEST_DIR}/test_pp_dbnet.c
              LIBS ruth_pp_testutil LABELS processing TIMEOUT 120)

# Small ONNX graphs with known outputs (no YOLO/classification weights are
# fetchable): generated at build time by tests/data/processing/gen_graphs.py.
set(PP_GRAPH_DIR ${CMAKE_BINARY_DIR}/tests/processing_graphs)
set(PP_GRAPHS ${PP_GRAPH_DIR}/yolo_const.onnx ${PP_GRAPH_DIR}/yolo_const_t.onnx ${PP_GRAPH_DIR}/cls_colour.onnx)
add_custom_command(OUTPUT ${PP_GRAPHS}
                   COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/data/processing/gen_graphs.py ${PP_GRAPH_DIR}
                   DEPENDS ${CMAKE_SOURCE_DIR}/tests/data/processing/gen_graphs.py
                   COMMENT "Generating the processing test ONNX graphs")
add_custom_target(ruth_pp_graphs DEPENDS ${PP_GRAPHS})
foreach(t test_pp_yolo test_pp_classification)
  ruth_add_test(NAME ${t} SOURCES ${PP_TEST_DIR}/${t}.c LIBS ruth_pp_testutil LABELS processing TIMEOUT 60)
  target_compile_definitions(${t} PRIVATE PP_GRAPH_DIR="${PP_GRAPH_DIR}")
  add_dependencies(${t} ruth_pp_graphs)
endforeach()

# Custom handler loader: tiny handler modules built from one test source.
set(PP_MOD_DIR ${CMAKE_BINARY_DIR}/tests/pp_modules)
ruth_add_test(NAME test_pp_handler SOURCES ${PP_TEST_DIR}/test_pp_handler.c LIBS ruth_processing
              LABELS processing TIMEOUT 60)
target_compile_definitions(test_pp_handler PRIVATE PP_MOD_DIR="${PP_MOD_DIR}")
foreach(v good null too_new no_entry)
  add_library(pp_mod_${v} MODULE ${PP_TEST_DIR}/test_pp_handler_mod.c)
  string(TOUPPER ${v} V)
  target_compile_definitions(pp_mod_${v} PRIVATE PP_MOD_${V})
  target_include_directories(pp_mod_${v} PRIVATE ${CMAKE_SOURCE_DIR}/src/runtime/processing
                             ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(pp_mod_${v} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PP_MOD_DIR} C_VISIBILITY_PRESET hidden)
  add_dependencies(test_pp_handler pp_mod_${v})
endforeach()

# ruth-infer end to end against real runtimes (once the runtime exists).
if(TARGET ruth-model-runtime AND TARGET ruth-infer)
  ruth_add_script_test(NAME ruth_infer_runtime SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/ruth_infer_runtime.sh
                       LABELS "processing;integration" TIMEOUT 180)
endif()

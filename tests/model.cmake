# Tests of part: model (see tests/CMakeLists.txt)
# model.yaml validation (data-driven bad fixtures in tests/data/models/bad),
# discovery, the shared results JSON, the ruth-models tool, and the onboarding
# template's `make check` end to end once the runtime and ruth-infer exist.
ruth_add_test(NAME test_model_config SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_model_config.c
              LIBS ruth_model LABELS model TIMEOUT 60)
ruth_add_test(NAME test_model_discovery SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_model_discovery.c
              LIBS ruth_model LABELS model TIMEOUT 60)
ruth_add_test(NAME test_model_result_json SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_model_result_json.c
              LIBS ruth_model LABELS model TIMEOUT 60)
ruth_add_test(NAME test_model_cli SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_model_cli.c
              LIBS ruth_model LABELS model TIMEOUT 60)
add_dependencies(test_model_cli ruth-models)

# The template's handler, built exactly as `make handler` would (one .so, only
# ruth_handler_entry exported), and driven through the postprocessor ABI.
add_library(ruth_template_handler MODULE ${CMAKE_SOURCE_DIR}/templates/model/handler/handler.c)
target_include_directories(ruth_template_handler PRIVATE ${CMAKE_SOURCE_DIR}/include
                           ${CMAKE_SOURCE_DIR}/src/runtime/processing)
set_target_properties(ruth_template_handler PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
target_link_libraries(ruth_template_handler PRIVATE m)
ruth_add_test(NAME test_model_template_handler
              SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_model_template_handler.c
              LIBS ruth_model ${CMAKE_DL_LIBS} LABELS model TIMEOUT 60
              ARGS $<TARGET_FILE:ruth_template_handler>)
target_include_directories(test_model_template_handler PRIVATE ${CMAKE_SOURCE_DIR}/src/runtime/processing)
add_dependencies(test_model_template_handler ruth_template_handler)

# The onboarding path end to end: copy templates/model to a temp folder (as a
# new engineer does), run its `make check` against this build: handler built,
# model.yaml validated, the real runtime started on the copy, ruth-infer on the
# default sample (the face in messi5.jpg), runtime stopped cleanly. make check
# itself fails unless a detection overlaps the hand-checked face box (IoU >= 0.5).
if(TARGET ruth-model-runtime AND TARGET ruth-infer)
  add_test(NAME test_model_template_check
           COMMAND bash -c "set -eo pipefail; d=$(mktemp -d /tmp/ruth-template-XXXXXX); trap 'rm -rf \"$d\"' EXIT; cp -r \"$0\" \"$d/template-face\"; rm -f \"$d/template-face/handler/handler.so\"; make -s -C \"$d/template-face\" check BIN_DIR=\"$1\" RUTH_SRC=\"$2\" | tee \"$d/out.txt\"; grep -q '^check: OK' \"$d/out.txt\"; grep -q '\"class_id\":0' \"$d/out.txt\""
                   ${CMAKE_SOURCE_DIR}/templates/model ${CMAKE_BINARY_DIR}/bin ${CMAKE_SOURCE_DIR})
  set_tests_properties(test_model_template_check PROPERTIES ENVIRONMENT "${RUTH_TEST_ENV}" TIMEOUT 180
                       LABELS model)
endif()

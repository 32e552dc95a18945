# Helpers every test fragment uses, so tests look alike and get the same
# environment: where the sources, binaries, media and ONNX Runtime are, and
# the sanitizer options.
set(RUTH_MEDIA_DIR ${CMAKE_SOURCE_DIR}/.cache/media)
set(RUTH_TEST_ENV
  "RUTH_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "RUTH_BUILD_DIR=${CMAKE_BINARY_DIR}"
  "RUTH_BIN_DIR=${CMAKE_BINARY_DIR}/bin"
  "RUTH_MEDIA_DIR=${RUTH_MEDIA_DIR}"
  "RUTH_MODELS_ROOT=${CMAKE_SOURCE_DIR}/models"
  "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
  "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# ruth_add_test(NAME name SOURCES a.c b.c LIBS x y [LABELS l] [TIMEOUT s] [ARGS ...])
# A cmocka (or plain C) test binary registered with CTest.
function(ruth_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_include_directories(${T_NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/include)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${RUTH_TEST_ENV}" TIMEOUT ${T_TIMEOUT}
                       LABELS "${T_LABELS}")
endfunction()

# ruth_add_script_test(NAME name SCRIPT path [LABELS l] [TIMEOUT s])
# An integration test written as a shell script that starts real processes.
function(ruth_add_script_test)
  cmake_parse_arguments(T "" "NAME;SCRIPT;TIMEOUT" "LABELS;ARGS" ${ARGN})
  add_test(NAME ${T_NAME} COMMAND bash ${T_SCRIPT} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES ENVIRONMENT "${RUTH_TEST_ENV}" TIMEOUT ${T_TIMEOUT}
                       LABELS "${T_LABELS}")
endfunction()

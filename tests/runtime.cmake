# Tests of part: runtime (see tests/CMakeLists.txt)
# Integration tests start the real ruth-model-runtime binary with temp socket
# folders (no TCP ports); they share tests/integration/runtime_harness.c.
if(TARGET ruth-model-runtime)
  add_library(ruth_runtime_harness STATIC ${CMAKE_SOURCE_DIR}/tests/integration/runtime_harness.c)
  target_include_directories(ruth_runtime_harness PUBLIC ${CMAKE_SOURCE_DIR}/tests/integration
                             ${CMAKE_SOURCE_DIR}/include)
  target_link_libraries(ruth_runtime_harness PUBLIC ruth_ipc vas_export kmedia PkgConfig::FFMPEG)

  foreach(t cpu stub concurrency badinput isolation notify)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/integration/runtime_${t}.c)
      ruth_add_test(NAME runtime_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/integration/runtime_${t}.c
                    LIBS ruth_runtime_harness Threads::Threads LABELS runtime integration TIMEOUT 300)
      add_dependencies(runtime_${t} ruth-model-runtime)
    endif()
  endforeach()
  if(TEST runtime_isolation)
    set_tests_properties(runtime_isolation PROPERTIES SKIP_RETURN_CODE 77)
  endif()

  foreach(t request notify)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/unit/test_runtime_${t}.c)
      ruth_add_test(NAME test_runtime_${t} SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_runtime_${t}.c
                    LIBS ruth_runtime_core LABELS runtime unit TIMEOUT 60)
    endif()
  endforeach()
endif()

# Tests of part: deploy (see tests/CMakeLists.txt). Ports 18800-18849.
#   deploy_check     compose.yaml, Dockerfiles, units against the deployment rules (+ self-test)
#   deploy_systemd   systemd-analyze verify of the units, with negative checks; sysusers/tmpfiles
#   deploy_health    ruth-health and healthcheck.sh on bad input and unhealthy peers
#   deploy_embedded  the embedded default started the way the systemd units start it

ruth_add_script_test(NAME deploy_check SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/deploy_check.sh
                     LABELS deploy TIMEOUT 60)
ruth_add_script_test(NAME deploy_systemd SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/deploy_systemd.sh
                     LABELS deploy TIMEOUT 60)
set_tests_properties(deploy_systemd PROPERTIES SKIP_RETURN_CODE 77)

if(TARGET ruth-health)
  ruth_add_script_test(NAME deploy_health SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/deploy_health.sh
                       LABELS deploy TIMEOUT 60)
endif()

# The embedded default needs the runtime; vasd, the core and the RTSP test
# server are used when built (the script reports each part it cannot run, and
# exits 77, reported by CTest as skipped, when the runtime itself is missing).
set(_deploy_missing "")
foreach(_t ruth-model-runtime ruth-health vasd ruth-ai-core ruthctl rtsp-test-server)
  if(NOT TARGET ${_t})
    list(APPEND _deploy_missing ${_t})
  endif()
endforeach()
if(_deploy_missing)
  message(STATUS "deploy_embedded: not built here, parts skipped: ${_deploy_missing}")
endif()
ruth_add_script_test(NAME deploy_embedded SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/deploy_embedded.sh
                     LABELS deploy TIMEOUT 180)
set_tests_properties(deploy_embedded PROPERTIES SKIP_RETURN_CODE 77)
# Space-separated: a CMake list's ';' would split the ENVIRONMENT entry.
string(REPLACE ";" " " _deploy_missing_env "${_deploy_missing}")
set_property(TEST deploy_embedded APPEND PROPERTY ENVIRONMENT "DEPLOY_MISSING_TARGETS=${_deploy_missing_env}")

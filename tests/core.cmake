# Tests of part: core (ruth-ai-core, ruthctl). Unit tests link the pure modules;
# integration tests start real processes (ports 18700-18799).
ruth_add_test(NAME test_core_fps_gate SOURCES unit/test_core_fps_gate.c LIBS ruth_core_pure LABELS core unit)
ruth_add_test(NAME test_core_stream_agent SOURCES unit/test_core_stream_agent.c LIBS ruth_core_pure LABELS core unit)
ruth_add_test(NAME test_core_config SOURCES unit/test_core_config.c LIBS ruth_core_pure LABELS core unit)
ruth_add_test(NAME test_core_json_out SOURCES unit/test_core_json_out.c LIBS ruth_core_pure LABELS core unit)
foreach(t e2e kill_runtime vasd_restart errors tick_slack tick_group)
  ruth_add_script_test(NAME core_${t} SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/core_${t}.sh
                       LABELS core integration TIMEOUT 180)
  set_tests_properties(core_${t} PROPERTIES SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endforeach()

# Tests of part: vasd (see tests/CMakeLists.txt)
#   test_vasd_config     configuration parser: full format, defaults, every error names file:line:field
#   vasd_export_flag     AI_FRAME_EXPORT_ENABLED off (no tap, no shm) / on (0640, group, nobody reads
#                        but cannot write); SIGTERM cleanup; stale object replaced
#   vasd_rate_pixels     exported frames at the source rate; pixels identical to an ffmpeg CLI decode
#   vasd_reconnect       RTSP server killed and restarted 10 times; the other camera keeps its rate;
#                        no fd / memory / shm leaks
#   vasd_bad_input       unreachable host, bad URL, 404, no video, corrupt bitstream, bad configs
#   vasd_branches        packets reach the record and RTP branches; a playable segment is written
# The integration tests use ports 18500-18549 on 127.0.0.1 and camera ids
# containing the test name and pid.
ruth_add_test(NAME test_vasd_config SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_vasd_config.c
              LIBS vasd_config LABELS vasd TIMEOUT 60)
if(TARGET rtsp-test-server AND TARGET vasd-export-probe)
  foreach(t vasd_export_flag vasd_rate_pixels vasd_reconnect vasd_bad_input vasd_branches)
    ruth_add_script_test(NAME ${t} SCRIPT ${CMAKE_SOURCE_DIR}/tests/integration/${t}.sh
                         LABELS vasd TIMEOUT 180)
  endforeach()
else()
  message(WARNING "vasd integration tests need rtsp-test-server (gst-rtsp-server) and vas_export")
endif()

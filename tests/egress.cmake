# Tests of part: egress (see tests/CMakeLists.txt). Recording and RTP branches of
# vasd (src/vas/egress): unit tests, standalone integration through the
# egress-feed harness, and end to end with vasd when it is built.
add_executable(egress-feed integration/egress_feed.c)
target_link_libraries(egress-feed PRIVATE vas_egress)

ruth_add_test(NAME test_egress_unit SOURCES unit/test_egress_unit.c LIBS vas_egress LABELS egress TIMEOUT 120)

foreach(t record rtp errors resilience)
  ruth_add_script_test(NAME egress_${t} SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/integration/egress_${t}.sh
                       LABELS egress TIMEOUT 240)
endforeach()
if(TARGET vasd AND TARGET vas_export)
  add_executable(egress-reader integration/egress_reader.c)
  target_link_libraries(egress-reader PRIVATE vas_export)
  foreach(t vasd_e2e vasd_cycles)
    ruth_add_script_test(NAME egress_${t} SCRIPT ${CMAKE_CURRENT_SOURCE_DIR}/integration/egress_${t}.sh
                         LABELS egress TIMEOUT 300)
  endforeach()
  # Rate measurements (>= 0.99 of the source, decode within 2%): not while the
  # rest of the suite competes for the CPU.
  set_tests_properties(egress_vasd_e2e PROPERTIES RUN_SERIAL TRUE)
endif()

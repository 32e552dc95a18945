# Tests of part: vas_export (see tests/CMakeLists.txt)
#   test_frame_ring    Phase 1 ring: order, drop-oldest, timeouts, never blocking
#   test_frame_export  Phase 2 writer/reader: round trips, generations, retirement,
#                      stale objects, read-only enforcement, close
#   test_frame_seqlock bounded seqlock stress: 1 writer, 3 readers, 2 slots
#   test_frame_tap     the decode-boundary tap: real decoded frames through ring,
#                      exporter thread and swscale into the export
#   test_frame_dump    vas-frame-dump against a live export (script)
ruth_add_test(NAME test_frame_ring SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_frame_ring.c
              LIBS vas_export LABELS vas_export TIMEOUT 60)
ruth_add_test(NAME test_frame_export SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_frame_export.c
              LIBS vas_export LABELS vas_export TIMEOUT 60)
ruth_add_test(NAME test_frame_seqlock SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_frame_seqlock.c
              LIBS vas_export LABELS vas_export TIMEOUT 60)
ruth_add_test(NAME test_frame_tap SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_frame_tap.c
              LIBS vas_export LABELS vas_export TIMEOUT 120)
ruth_add_test(NAME test_frame_dump SOURCES ${CMAKE_SOURCE_DIR}/tests/unit/test_frame_dump.c
              LIBS vas_export LABELS vas_export TIMEOUT 60)
add_dependencies(test_frame_dump vas-frame-dump)

#!/usr/bin/env bash
# vasd_export_flag: AI_FRAME_EXPORT_ENABLED off -> no tap, no shm object, no
# export in the status; on -> one shm object per camera, mode 0640, owned by the
# configured group, readable (and not writable) by user nobody; SIGTERM removes
# the objects; a stale object left by a SIGKILLed vasd is replaced on start.
CAM_PREFIX=vt-flag-$$
source "$(dirname "$0")/vasd_lib.sh"
PORT=18500
A=$CAM_PREFIX-a B=$CAM_PREFIX-b
start_server $PORT v=$MEDIA/vtest.mp4 m=$MEDIA/megamind.mp4
cat >"$T/vasd.yaml" <<YAML
export: {ring_size: 4, slots: 4, group: nogroup}
cameras:
  - {id: $A, url: "rtsp://127.0.0.1:$PORT/v", transport: tcp, timeout_ms: 2000}
  - {id: $B, url: "rtsp://127.0.0.1:$PORT/m", transport: udp, timeout_ms: 2000}
YAML
ST=$T/status.json

log "flag off"
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd-off.log" AI_FRAME_EXPORT_ENABLED=false
wait_for 20 "both cameras decode 10 frames" eval 'frames_at_least $ST $A 10 && frames_at_least $ST $B 10'
ls /dev/shm/vas."$CAM_PREFIX"* >/dev/null 2>&1 && fail "flag off but shm objects exist: $(ls /dev/shm/vas."$CAM_PREFIX"*)"
[ "$(json_get "$ST" - export_enabled)" = false ] || fail "status export_enabled is not false"
for c in $A $B; do
    [ "$(json_get "$ST" $c export)" = false ] || fail "$c: status shows an export with the flag off"
    [ "$(json_get "$ST" $c frames_exported)" = 0 ] || fail "$c: frames exported with the flag off"
done
grep -q '/dev/shm/vas\.' /proc/$VASD_PID/maps && fail "flag off but vasd maps a /dev/shm/vas.* object"
grep -q "frame export disabled" "$T/vasd-off.log" || fail "vasd did not log 'frame export disabled'"
grep -Eq "frame tap|\[vas-export" "$T/vasd-off.log" && fail "flag off but the export library logged (a tap was created)"
stop_vasd
log "flag off ok"

log "flag on"
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd-on.log" AI_FRAME_EXPORT_ENABLED=true
wait_for 20 "both exports exist and advance" eval \
    '[ -e /dev/shm/vas.$A ] && [ -e /dev/shm/vas.$B ] && field_ge $ST $A frames_exported 5 && field_ge $ST $B frames_exported 5'
[ "$(json_get "$ST" - export_enabled)" = true ] || fail "status export_enabled is not true"
for c in $A $B; do
    f=/dev/shm/vas.$c
    [ "$(stat -c %a "$f")" = 640 ] || fail "$f: mode $(stat -c %a "$f"), expected 640"
    [ "$(stat -c %G "$f")" = nogroup ] || fail "$f: group $(stat -c %G "$f"), expected nogroup"
    # As nobody (group nogroup): the reader library opens and reads it ...
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$BIN/vasd-export-probe" info "$c" >"$T/probe.txt" \
        || fail "user nobody cannot read the export of $c"
    grep -q "camera=$c " "$T/probe.txt" || fail "probe as nobody: unexpected output $(cat "$T/probe.txt")"
    setpriv --reuid=nobody --regid=nogroup --clear-groups dd if="$f" of=/dev/null bs=4096 count=1 status=none \
        || fail "user nobody cannot read $f"
    # ... and cannot write it.
    if setpriv --reuid=nobody --regid=nogroup --clear-groups dd if=/dev/zero of="$f" bs=1 count=1 conv=notrunc status=none 2>/dev/null; then
        fail "user nobody could write $f"
    fi
done
log "flag on ok"

log "SIGTERM removes the objects"
stop_vasd
ls /dev/shm/vas."$CAM_PREFIX"* >/dev/null 2>&1 && fail "objects left after SIGTERM: $(ls /dev/shm/vas."$CAM_PREFIX"*)"
grep -q "SIGTERM received" "$T/vasd-on.log" || fail "no SIGTERM log line"

log "stale object from a SIGKILLed vasd is replaced"
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd-kill.log" AI_FRAME_EXPORT_ENABLED=true
wait_for 20 "export of $A" eval '[ -e /dev/shm/vas.$A ] && field_ge $ST $A frames_exported 3'
OLD=$VASD_PID
kill -9 "$OLD"; wait "$OLD" 2>/dev/null || true
[ -e /dev/shm/vas.$A ] || fail "expected a stale object after SIGKILL"
OLD_INODE=$(stat -c %i /dev/shm/vas.$A)
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd-restart.log" AI_FRAME_EXPORT_ENABLED=true
wait_for 20 "new export of $A written by the new vasd" eval \
    '"$BIN/vasd-export-probe" info $A 2>/dev/null | grep -q "writer_pid=$VASD_PID " && field_ge $ST $A frames_exported 3'
S1=$("$BIN/vasd-export-probe" info $A | sed -n 's/.*newest_seq=\([0-9]*\).*/\1/p')
sleep 0.5
S2=$("$BIN/vasd-export-probe" info $A | sed -n 's/.*newest_seq=\([0-9]*\).*/\1/p')
[ "$S2" -gt "$S1" ] || fail "replaced export does not advance ($S1 -> $S2)"
log "stale replaced (old inode $OLD_INODE, new $(stat -c %i /dev/shm/vas.$A))"
stop_vasd
ls /dev/shm/vas."$CAM_PREFIX"* >/dev/null 2>&1 && fail "objects left after SIGTERM"
echo "PASS vasd_export_flag"

#!/usr/bin/env bash
# vasd_reconnect: the RTSP server of camera A is killed (-9) and restarted 10
# times: vasd reconnects every time and A's frames resume, while camera B on a
# second server keeps its frame rate throughout and never reconnects. At the
# end: fd count and RSS within a small bound of their values after the first
# reconnect, exactly one shm object per camera, none after SIGTERM. Then a
# stalled (SIGSTOPped) server: detected after timeout_ms, resumes after SIGCONT.
CAM_PREFIX=vt-recon-$$
source "$(dirname "$0")/vasd_lib.sh"
PA=18520 PB=18521
A=$CAM_PREFIX-a B=$CAM_PREFIX-b
ROUNDS=${ROUNDS:-10}
start_server $PA v=$MEDIA/vtest.mp4
SRV_A=$SRV_PID
start_server $PB m=$MEDIA/megamind.mp4
cat >"$T/vasd.yaml" <<YAML
export: {ring_size: 4, slots: 4}
cameras:
  - {id: $A, url: "rtsp://127.0.0.1:$PA/v", timeout_ms: 2000, reconnect: {initial_ms: 100, max_ms: 800}}
  - {id: $B, url: "rtsp://127.0.0.1:$PB/m", timeout_ms: 2000, reconnect: {initial_ms: 100, max_ms: 800}}
YAML
ST=$T/status.json
# A small ASan quarantine keeps RSS meaningful as a leak signal in the ASan build.
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd.log" AI_FRAME_EXPORT_ENABLED=true \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=8"
wait_for 20 "both cameras stream" eval 'frames_at_least $ST $A 5 && frames_at_least $ST $B 5'

rss_kb() { awk '/^VmRSS:/ {print $2}' /proc/$VASD_PID/status; }
fds() { ls /proc/$VASD_PID/fd | wc -l; }

B0=$(json_get "$ST" $B frames_decoded); T0=$(date +%s%N)
for i in $(seq 1 "$ROUNDS"); do
    kill -9 "$SRV_A"; wait "$SRV_A" 2>/dev/null || true
    wait_for 10 "round $i: vasd notices the disconnect of $A" eval '[ "$(json_get $ST $A state)" != streaming ]'
    # Counted from a snapshot taken while A is not streaming: every frame of the
    # old connection is in it, so more frames can only come from a new one.
    before=$(json_get "$ST" $A frames_decoded)
    start_server $PA v=$MEDIA/vtest.mp4
    SRV_A=$SRV_PID
    wait_for 15 "round $i: frames of $A resume" eval 'frames_at_least $ST $A $((before + 5))'
    log "round $i: $A resumed ($(json_get "$ST" $A frames_decoded) frames, $(json_get "$ST" $A reconnects) reconnects)"
    if [ "$i" = 1 ]; then
        FD1=$(fds); RSS1=$(rss_kb)
        log "after the first reconnect: $FD1 fds, RSS $RSS1 kB"
    fi
done
B1=$(json_get "$ST" $B frames_decoded); T1=$(date +%s%N)
FD2=$(fds); RSS2=$(rss_kb)
log "at the end: $FD2 fds, RSS $RSS2 kB"

BFPS=$("$PY" -c "print(round(($B1 - $B0) / (($T1 - $T0) / 1e9), 2))")
log "camera $B: $BFPS fps over the whole test (source 23.976)"
"$PY" -c "import sys; sys.exit(0 if abs($BFPS - 23.976) <= 0.15 * 23.976 else 1)" \
    || fail "camera $B ran at $BFPS fps during the restarts (expected 23.976 +-15%)"
[ "$(json_get "$ST" $B reconnects)" = 0 ] || fail "camera $B reconnected although its server never stopped"
NREC=$(grep -c "streaming .*(reconnected)" "$T/vasd.log" || true)
[ "$NREC" -ge "$ROUNDS" ] || fail "only $NREC reconnects of $A logged, expected $ROUNDS"
[ "$FD2" -le $((FD1 + 2)) ] || fail "fd leak: $FD1 fds after the first reconnect, $FD2 at the end"
[ "$RSS2" -le $((RSS1 + 24576)) ] || fail "memory growth: RSS $RSS1 kB after the first reconnect, $RSS2 kB at the end"
log "stalled server (SIGSTOP): the timeout turns it into a disconnect, SIGCONT resumes"
kill -STOP "$SRV_A"
wait_for 10 "stall of $A detected" eval '[ "$(json_get $ST $A state)" != streaming ]'
json_get "$ST" $A last_error | grep -q "no data for 2000 ms" || fail "stall reason: '$(json_get "$ST" $A last_error)'"
wait_for 10 "a reconnect attempt to the stalled server times out" \
    grep -q "cam=$A\] disconnected: open .*no answer within" "$T/vasd.log"
before=$(json_get "$ST" $A frames_decoded)
kill -CONT "$SRV_A"
wait_for 15 "frames of $A resume after SIGCONT" eval 'frames_at_least $ST $A $((before + 5))'
N=$(ls /dev/shm/vas."$CAM_PREFIX"* 2>/dev/null | wc -l)
[ "$N" = 2 ] || fail "expected 2 shm objects, found $N: $(ls /dev/shm/vas."$CAM_PREFIX"* 2>/dev/null)"
stop_vasd
ls /dev/shm/vas."$CAM_PREFIX"* >/dev/null 2>&1 && fail "objects left after SIGTERM"
echo "PASS vasd_reconnect"

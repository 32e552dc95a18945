#!/usr/bin/env bash
# egress_vasd_e2e: vasd end to end with recording + RTP egress + the AI frame
# export on, a frame-export reader that holds a frame view and stalls, and one
# that copies every frame as fast as it can. Over a measured window:
#  - vasd's decode keeps the source rate (status: frames_decoded delta and
#    decode_fps within 2% of the source fps): the branches and readers never
#    make decode wait;
#  - recording and RTP egress keep the full source frame rate (packets written /
#    sent vs source fps * seconds >= 0.99), and afterwards the frames in the
#    segment files and at the RTP consumer (ffmpeg CLI on the SDP) add up;
# then resilience through vasd: the source stalls without closing (SIGSTOP the
# server), the server is restarted with a clip of another resolution on the same
# mount (codec parameters change): no crash, new segment, egress recovers.
# Ports 18640-18649.
source "$(dirname "$0")/egress_lib.sh"
PY=/usr/bin/python3
CAM=eg-e2e-$$
PORT=18640 RTP=18642
SRC=$MEDIA/megamind.mp4 # 720x528, 23.976 fps, keyframe every ~1 s
FPS=23.976
WIN=${EGRESS_E2E_SECONDS:-20}
SRV_PID=""
cleanup_e2e() { rm -f /dev/shm/vas."$CAM" 2>/dev/null; }
trap 'cleanup_e2e; cleanup' EXIT

start_server() { # start_server FILE
	"$BIN/rtsp-test-server" --port $PORT --mount "cam=$1" >"$WORK/srv.out" 2>>"$WORK/srv.log" &
	SRV_PID=$!; PIDS+=("$SRV_PID")
	local i; for i in $(seq 200); do grep -q READY "$WORK/srv.out" 2>/dev/null && return 0; sleep 0.1; done
	fail "rtsp-test-server not READY"; finish
}
jget() { # jget FIELD.PATH (of our camera in the status file)
	"$PY" - "$WORK/status.json" "$CAM" "$1" <<'PYEOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    c = [c for c in d["cameras"] if c["id"] == sys.argv[2]][0]
    for k in sys.argv[3].split("."):
        c = c[k]
    print(c)
except Exception:
    print("")
PYEOF
}
wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
	local s=$1 d=$2; shift 2
	local end=$(($(date +%s) + s))
	while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
	fail "timed out ($s s): $d"; return 1
}
ge() { local v; v=$(jget "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }

start_server "$SRC"
mkdir -p "$WORK/rec"
cat >"$WORK/vasd.yaml" <<YAML
export: {ring_size: 4, slots: 4}
cameras:
  - id: $CAM
    url: rtsp://127.0.0.1:$PORT/cam
    timeout_ms: 1500
    reconnect: {initial_ms: 100, max_ms: 500}
    record: {enabled: true, dir: $WORK/rec, segment_seconds: 4, format: fmp4}
    rtp: {enabled: true, host: 127.0.0.1, port: $RTP, rtcp_port: $((RTP + 1)), payload_type: 96, sdp: $WORK/cam.sdp}
YAML
AI_FRAME_EXPORT_ENABLED=true "$BIN/vasd" --config "$WORK/vasd.yaml" --status-file "$WORK/status.json" \
	--status-interval-ms 200 2>"$WORK/vasd.log" &
VASD=$!; PIDS+=("$VASD")
wait_until 20 "vasd streams" ge frames_decoded 24 || finish
wait_file "$WORK/cam.sdp" 100 || fail "no SDP"
start_consumer "$WORK/cam.sdp" "$WORK/recv.md5" "$WORK/consumer.err"
"$BIN/egress-reader" stall "$CAM" $((WIN + 6)) >"$WORK/stall.out" 2>&1 &
PIDS+=("$!")
"$BIN/egress-reader" fast "$CAM" $((WIN + 6)) >"$WORK/fast.out" 2>&1 &
PIDS+=("$!")
sleep 3 # the consumer joins at the next IDR; readers settle

snap() { echo "$(date +%s.%N) $(jget frames_decoded) $(jget record.packets_out) $(jget rtp.packets_out)"; }
S0=$(snap); C0=$(grep -vc '^#' "$WORK/recv.md5" 2>/dev/null || echo 0)
log "measuring for $WIN s"
sleep "$WIN"
S1=$(snap); C1=$(grep -vc '^#' "$WORK/recv.md5" 2>/dev/null || echo 0)
DFPS=$(jget decode_fps)
read -r RATIOS <<<"$("$PY" - "$S0" "$S1" "$FPS" "$C0" "$C1" <<'PYEOF'
import sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
fps = float(sys.argv[3]); c0, c1 = int(sys.argv[4]), int(sys.argv[5])
want = fps * (b[0] - a[0])
print(" ".join("%.4f" % r for r in ((b[1]-a[1])/want, (b[2]-a[2])/want, (b[3]-a[3])/want, (c1-c0)/want)))
PYEOF
)"
read -r RDEC RREC RRTP RCON <<<"$RATIOS"
log "vs source fps*seconds: decoded $RDEC, recorded $RREC, RTP sent $RRTP, RTP consumer $RCON; status decode_fps $DFPS"
check "decode keeps the source rate (decoded/source $RDEC within 2%)" awk -v r="$RDEC" 'BEGIN{exit !(r >= 0.98 && r <= 1.02)}'
check "status decode_fps $DFPS within 2% of $FPS" awk -v r="$DFPS" -v f=$FPS 'BEGIN{exit !(r >= 0.98*f && r <= 1.02*f)}'
check "recording keeps the source rate ($RREC >= 0.99)" awk -v r="$RREC" 'BEGIN{exit !(r >= 0.99)}'
check "RTP egress keeps the source rate ($RRTP >= 0.99)" awk -v r="$RRTP" 'BEGIN{exit !(r >= 0.99)}'
check "RTP consumer receives the source rate ($RCON >= 0.99)" awk -v r="$RCON" 'BEGIN{exit !(r >= 0.99)}'
check "record branch dropped nothing" [ "$(jget record.packets_dropped)" = 0 ]
check "rtp branch dropped nothing" [ "$(jget rtp.packets_dropped)" = 0 ]

log "== source stalls without closing (SIGSTOP the server)"
R0=$(jget reconnects); P0=$(jget rtp.packets_out)
kill -STOP "$SRV_PID"
wait_until 10 "stall detected" eval '[ "$(jget state)" != streaming ]'
sleep 1
kill -CONT "$SRV_PID"
wait_until 15 "streaming again after SIGCONT" eval '[ "$(jget state)" = streaming ] && ge rtp.packets_out $((P0 + 48))'
check "vasd alive after the stall" kill -0 "$VASD"

log "== server restarted with a clip of another resolution on the same mount"
NSEG0=$(ls "$WORK/rec" | wc -l)
P0=$(jget rtp.packets_out); RP0=$(jget record.packets_out)
kill -KILL "$SRV_PID"; wait "$SRV_PID" 2>/dev/null
start_server "$MEDIA/vtest.mp4" # 768x576, 10 fps
wait_until 20 "streaming the new clip" eval '[ "$(jget width)" = 768 ] && ge rtp.packets_out $((P0 + 30)) && ge record.packets_out $((RP0 + 30))'
sleep 3
check "vasd alive after the change" kill -0 "$VASD"
stop_consumer
kill -TERM "$VASD"; for i in $(seq 100); do kill -0 "$VASD" 2>/dev/null || break; sleep 0.1; done
wait "$VASD"; rc=$?
check "vasd exits 0 on SIGTERM (rc=$rc)" [ "$rc" -eq 0 ]
check "no shm object left" [ ! -e /dev/shm/vas."$CAM" ]
sizes=""; bad=0; total=0
for f in $(ls "$WORK"/rec/* | sort -V); do
	n=$(nframes "$f"); total=$((total + ${n:-0})); sizes="$sizes $(dims "$f")"
	first_is_key "$f" || { fail "$(basename "$f") does not start with a keyframe"; bad=1; }
done
log "segments:$sizes"
wait # the readers
cat "$WORK/stall.out" "$WORK/fast.out" >&2
check "frames reached the fast reader" grep -q 'frames=[1-9]' "$WORK/fast.out"
check "the stalled reader held views (the writer moved on under it)" grep -q 'mode=stall frames=[0-9]* stale=[1-9]' "$WORK/stall.out"
for f in $(ls "$WORK"/rec/* | sort -V); do
	d=$(duration "$f"); n=$(nframes "$f")
	awk -v d="$d" -v n="$n" 'BEGIN{exit !(n > 0 && d / n > 0.03 && d / n < 0.2)}' || fail "$(basename "$f"): $n frames in $d s: timestamps wrong"
done
check "segments at both resolutions" grep -q "720x528.*768x576" <<<"$sizes"
RPO=$(grep -o '"packets_out":[0-9]*' "$WORK/status.json" | head -1 | cut -d: -f2)
check "frames in the segments ($total) match what the branch wrote" [ "$total" -ge $(( ${RPO:-0} * 99 / 100 )) ]
errs=$(grep -v -i 'received signal\|exiting normally' "$WORK/consumer.err" | head -3)
log "consumer stderr: ${errs:-<empty>}"
grep -q 'ERROR' "$WORK/vasd.log" && log "vasd errors logged: $(grep -c ERROR "$WORK/vasd.log")"
finish

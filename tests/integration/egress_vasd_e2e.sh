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
	--status-interval-ms 100 2>"$WORK/vasd.log" &
VASD=$!; PIDS+=("$VASD")
wait_until 20 "vasd streams" ge frames_decoded 24 || finish
wait_file "$WORK/cam.sdp" 100 || fail "no SDP"
start_consumer "$WORK/cam.sdp" "$WORK/recv.md5" "$WORK/consumer.err"
"$BIN/egress-reader" stall "$CAM" $((WIN + 6)) >"$WORK/stall.out" 2>&1 &
STALL=$!; PIDS+=("$STALL")
"$BIN/egress-reader" fast "$CAM" $((WIN + 6)) >"$WORK/fast.out" 2>&1 &
FAST=$!; PIDS+=("$FAST")
sleep 3 # the consumer joins at the next IDR; readers settle

# Rates over the window from vasd's own counters, timed by its active_s (no status
# file jitter): the source rate is the packets vasd receives from the server.
snap() { echo "$(jget active_s) $(jget packets) $(jget frames_decoded) $(jget record.packets_out) $(jget rtp.packets_out) $(grep -vc '^#' "$WORK/recv.md5" 2>/dev/null || echo 0)"; }
S0=$(snap)
log "measuring for $WIN s"
# status decode_fps is vasd's short-window rate: average one sample a second
DS=""
for i in $(seq "$WIN"); do sleep 1; DS="$DS $(jget decode_fps)"; done
S1=$(snap)
DFPS=$(echo $DS | awk '{s=0; for(i=1;i<=NF;i++) s+=$i; printf "%.3f", s/NF}')
read -r SRCFPS RDEC RREC RRTP RCON <<<"$("$PY" - "$S0" "$S1" <<'PYEOF'
import sys
a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
dt = b[0] - a[0]; src = (b[1] - a[1])
print("%.3f" % (src / dt), " ".join("%.4f" % ((b[i] - a[i]) / src) for i in (2, 3, 4, 5)))
PYEOF
)"
log "source rate $SRCFPS fps (nominal $FPS); vs source: decoded $RDEC, recorded $RREC, RTP sent $RRTP, RTP consumer $RCON; status decode_fps (mean of 1 s samples) $DFPS"
check "source delivered about its nominal rate ($SRCFPS vs $FPS, 5%)" awk -v r="$SRCFPS" -v f=$FPS 'BEGIN{exit !(r >= 0.95*f && r <= 1.05*f)}'
check "decode keeps the source rate (status frames_decoded vs packets received: $RDEC, within 2%)" awk -v r="$RDEC" 'BEGIN{exit !(r >= 0.98 && r <= 1.02)}'
# decode_fps is vasd's estimate over a short window (it swings a few %); the 2%
# check above uses the status file's counters over the whole window instead.
check "status decode_fps $DFPS within 10% of the source $SRCFPS" awk -v r="$DFPS" -v f="$SRCFPS" 'BEGIN{exit !(r >= 0.90*f && r <= 1.10*f)}'
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
wait "$STALL" "$FAST" # the readers
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

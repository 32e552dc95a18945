#!/usr/bin/env bash
# soak_8cam: 8 cameras from the test RTSP server (one server, 8 mounts), each with
# recording + RTP egress + the AI frame export on, for a bounded time (warm-up
# SOAK_WARMUP_S, then SOAK_SECONDS measured; default 20 + 60 s). Prints
#   BENCH soak_8cam_rss_growth value=<KiB> unit=KiB baseline=<RSS after warm-up> ratio=<after/warm> target=2048
#   BENCH soak_8cam_frame_rate value=<min ratio> unit=ratio baseline=1 ratio=<same> target=0.99
# frame_rate: the minimum, over the 8 cameras and the branches, of delivered /
# source frames over the measured window, where source = the frames the server
# delivered (vasd's packet counter; the server paces at the clip's rate) and
# delivered = decoded frames, recorded frames (written to the segment files),
# RTP frames sent, and RTP frames at a consumer (a UDP receiver on each RTP port
# counting RTP marker bits, i.e. complete access units). Ports 18650-18667.
# Run by `make bench` (scripts/bench) with RUTH_BIN_DIR set; logs on stderr.
set -uo pipefail
BIN=${RUTH_BIN_DIR:?RUTH_BIN_DIR not set}
MEDIA=${RUTH_MEDIA_DIR:?RUTH_MEDIA_DIR not set}
WARM=${SOAK_WARMUP_S:-20}
DUR=${SOAK_SECONDS:-60}
PY=/usr/bin/python3
PORT=18650
RTP0=18652 # camera k: RTP 18652+2k, RTCP +1 (18652..18667)
W=$(mktemp -d /tmp/soak8.XXXXXX)
PIDS=()
PFX=soak8-$$
cleanup() {
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
	sleep 0.5
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
	rm -f /dev/shm/vas."$PFX"* 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }

mounts=()
for k in 0 1 2 3 4 5 6 7; do
	if [ $((k % 2)) = 0 ]; then mounts+=(--mount "c$k=$MEDIA/megamind.mp4"); else mounts+=(--mount "c$k=$MEDIA/vtest.mp4"); fi
done
"$BIN/rtsp-test-server" --port $PORT "${mounts[@]}" >"$W/srv.out" 2>"$W/srv.log" &
PIDS+=("$!")
for i in $(seq 300); do grep -q READY "$W/srv.out" 2>/dev/null && break; sleep 0.1; done
grep -q READY "$W/srv.out" || { log "rtsp-test-server not ready"; exit 1; }

# The RTP consumer: counts RTP packets and marker bits (frames) per port.
"$PY" - "$W/rtp.json" $RTP0 <<'PYEOF' &
import json, os, select, signal, socket, sys
out, base = sys.argv[1], int(sys.argv[2])
socks = {}
for k in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("127.0.0.1", base + 2 * k)); s.setblocking(False); socks[s] = k
    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)   # RTCP port: just drain
    r.bind(("127.0.0.1", base + 2 * k + 1)); r.setblocking(False); socks[r] = -1
frames = [0] * 8; pkts = [0] * 8
def dump(*_):
    tmp = out + ".tmp"
    with open(tmp, "w") as f: json.dump({"frames": frames, "packets": pkts}, f)
    os.rename(tmp, out)
signal.signal(signal.SIGUSR1, dump)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    try:
        rd, _, _ = select.select(list(socks), [], [], 0.5)
    except InterruptedError:
        continue
    for s in rd:
        k = socks[s]
        while True:
            try: d = s.recv(2048)
            except BlockingIOError: break
            if k >= 0 and len(d) >= 12:
                pkts[k] += 1
                if d[1] & 0x80: frames[k] += 1
PYEOF
CONS=$!; PIDS+=("$CONS")

{
	echo "export: {ring_size: 4, slots: 4}"
	echo "cameras:"
	for k in 0 1 2 3 4 5 6 7; do
		cat <<YAML
  - id: $PFX-$k
    url: rtsp://127.0.0.1:$PORT/c$k
    record: {dir: $W/rec/$k, segment_seconds: 10}
    rtp: {host: 127.0.0.1, port: $((RTP0 + 2 * k)), rtcp_port: $((RTP0 + 2 * k + 1)), sdp: $W/c$k.sdp}
YAML
	done
} >"$W/vasd.yaml"
AI_FRAME_EXPORT_ENABLED=true "$BIN/vasd" --config "$W/vasd.yaml" --status-file "$W/status.json" \
	--status-interval-ms 200 2>"$W/vasd.log" &
VASD=$!; PIDS+=("$VASD")
rss() { awk '/^VmRSS:/ {print $2}' /proc/$VASD/status; }
snap() { # one JSON line: vasd status + consumer counts, taken together
	kill -USR1 "$CONS"; sleep 0.3
	"$PY" - "$W/status.json" "$W/rtp.json" "$PFX" <<'PYEOF'
import json, sys
st = json.load(open(sys.argv[1])); rtp = json.load(open(sys.argv[2]))
cams = {}
for c in st["cameras"]:
    k = int(c["id"].rsplit("-", 1)[1])
    cams[k] = {"t": c.get("active_s", 0), "src": c["packets"], "dec": c["frames_decoded"],
               "rec": c["record"]["packets_out"], "rtp": c["rtp"]["packets_out"], "con": rtp["frames"][k],
               "state": c["state"]}
print(json.dumps(cams))
PYEOF
}
log "warm-up $WARM s"
sleep "$WARM"
kill -0 "$VASD" 2>/dev/null || { log "vasd died"; tail "$W/vasd.log" >&2; exit 1; }
S0=$(snap); RSS0=$(rss)
log "RSS after warm-up: $RSS0 KiB; measuring $DUR s"
sleep "$DUR"
S1=$(snap); RSS1=$(rss)
kill -TERM "$VASD"; wait "$VASD"; rc=$?
log "vasd exit status $rc"
"$PY" - "$S0" "$S1" "$RSS0" "$RSS1" <<'PYEOF'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rss0, rss1 = int(sys.argv[3]), int(sys.argv[4])
worst = 1e9
for k in sorted(a, key=int):
    x, y = a[k], b[k]
    src = y["src"] - x["src"]
    r = {f: (y[f] - x[f]) / src if src > 0 else 0.0 for f in ("dec", "rec", "rtp", "con")}
    fps = src / (y["t"] - x["t"]) if y["t"] > x["t"] else 0
    print("camera %s: source %.2f fps, decoded %.4f recorded %.4f rtp-sent %.4f rtp-consumer %.4f" %
          (k, fps, r["dec"], r["rec"], r["rtp"], r["con"]), file=sys.stderr)
    worst = min(worst, *r.values())
g = rss1 - rss0
print("BENCH soak_8cam_rss_growth value=%d unit=KiB baseline=%d ratio=%.4f target=2048" % (g, rss0, rss1 / rss0))
print("BENCH soak_8cam_frame_rate value=%.4f unit=ratio baseline=1 ratio=%.4f target=0.99" % (worst, worst))
PYEOF

#!/usr/bin/env bash
# vasd_branches: vasd hands every video packet to the configured record and RTP
# branches before decode (wiring test; the branches themselves are tested in
# tests/egress.cmake): the branch packet counts follow vasd's packet count,
# a recording segment playable by ffprobe appears, RTP packets are sent, and
# decoding goes on alongside.
CAM_PREFIX=vt-branch-$$
source "$(dirname "$0")/vasd_lib.sh"
PORT=18540 RTP=18546
C=$CAM_PREFIX-cam
start_server $PORT v=$MEDIA/vtest.mp4
mkdir -p "$T/rec"
cat >"$T/vasd.yaml" <<YAML
cameras:
  - id: $C
    url: "rtsp://127.0.0.1:$PORT/v"
    record: {dir: "$T/rec", segment_seconds: 2, format: fmp4}
    rtp: {host: 127.0.0.1, port: $RTP, sdp: "$T/cam.sdp"}
YAML
ST=$T/status.json
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd.log" AI_FRAME_EXPORT_ENABLED=false
wait_for 20 "30 frames decoded" frames_at_least "$ST" $C 30
"$PY" - "$ST" "$C" <<'PYEOF' || fail "branch counters do not follow the packets (see above)"
import json, sys
c = [c for c in json.load(open(sys.argv[1]))["cameras"] if c["id"] == sys.argv[2]][0]
pk = c["packets"]
for b in ("record", "rtp"):
    st = c.get(b)
    print(b, st, "vasd packets", pk, file=sys.stderr)
    if not st or st["packets_in"] < 0.9 * pk or st["packets_in"] > pk + 2 or st["packets_out"] == 0:
        sys.exit(1)
PYEOF
[ -s "$T/cam.sdp" ] || fail "no SDP written by the rtp branch"
stop_vasd
SEG=$(ls "$T/rec"/*.mp4 2>/dev/null | head -n 1)
[ -n "$SEG" ] || fail "no recording segment in $T/rec"
ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$SEG" >"$T/probe.txt" \
    || fail "ffprobe cannot read $SEG"
grep -q "h264,768,576" "$T/probe.txt" || fail "unexpected recording stream: $(cat "$T/probe.txt")"
log "recording $SEG: $(cat "$T/probe.txt")"
echo "PASS vasd_branches"

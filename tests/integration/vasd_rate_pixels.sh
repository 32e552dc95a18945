#!/usr/bin/env bash
# vasd_rate_pixels: exported frames advance at the source rate (vtest 10 fps,
# megamind 23.98 fps, H.265 1080p 30 fps, within 15% over 4 s), and an exported 1080p frame is
# identical (or PSNR > 50 dB) to the same frame decoded independently by the
# ffmpeg CLI.
CAM_PREFIX=vt-rate-$$
source "$(dirname "$0")/vasd_lib.sh"
PORT=18510
V=$CAM_PREFIX-vtest M=$CAM_PREFIX-mega P=$CAM_PREFIX-1080 H=$CAM_PREFIX-hevc
start_server $PORT v=$MEDIA/vtest.mp4 m=$MEDIA/megamind.mp4 t=$MEDIA/testsrc_1080p.mp4 h=$MEDIA/testsrc_1080p_hevc.mp4
cat >"$T/vasd.yaml" <<YAML
export: {ring_size: 4, slots: 4}
cameras:
  - {id: $V, url: "rtsp://127.0.0.1:$PORT/v"}
  - {id: $M, url: "rtsp://127.0.0.1:$PORT/m"}
  - {id: $P, url: "rtsp://127.0.0.1:$PORT/t", decode_threads: 2}
  - {id: $H, url: "rtsp://127.0.0.1:$PORT/h", decode_threads: 2}
YAML
ST=$T/status.json
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd.log" AI_FRAME_EXPORT_ENABLED=true
wait_for 25 "all four exports advance" eval \
    'field_ge $ST $V frames_exported 5 && field_ge $ST $M frames_exported 5 && field_ge $ST $P frames_exported 5 && field_ge $ST $H frames_exported 5'
# Settle first: right after connecting, frames the decoder fell behind on under
# load arrive in a burst, which is not the source rate.
sleep 1.5

log "rates over 4 s"
"$BIN/vasd-export-probe" rate $V 4000 >"$T/rate-v.txt" &
RV=$!
"$BIN/vasd-export-probe" rate $M 4000 >"$T/rate-m.txt" &
RM=$!
"$BIN/vasd-export-probe" rate $H 4000 >"$T/rate-h.txt" &
RH=$!
wait $RV || fail "rate probe $V failed"
wait $RM || fail "rate probe $M failed"
wait $RH || fail "rate probe $H failed"
check_rate() {
    local got; got=$(sed -n 's/^fps=\([0-9.]*\).*/\1/p' "$1")
    log "$2: $got fps (expected $3 +-15%)"
    "$PY" -c "import sys; g=float('$got'); e=$3; sys.exit(0 if abs(g-e) <= 0.15*e else 1)" \
        || fail "$2: exported $got fps, expected $3 +-15%"
}
check_rate "$T/rate-v.txt" vtest 10
check_rate "$T/rate-m.txt" megamind 23.976
check_rate "$T/rate-h.txt" hevc-1080p 30
[ "$(json_get "$ST" $H codec)" = hevc ] || fail "$H: codec $(json_get "$ST" $H codec), expected hevc"

log "pixels of an exported 1080p frame vs the ffmpeg CLI"
"$BIN/vasd-export-probe" dump $P "$T/frame.nv12" >"$T/dump.txt" || fail "dump failed"
cat "$T/dump.txt" >&2
grep -q "width=1920 height=1080 " "$T/dump.txt" || fail "unexpected geometry: $(cat "$T/dump.txt")"
# match stops reading at an identical frame, so ffmpeg may end on a broken pipe.
set +o pipefail
ffmpeg -v error -i "$MEDIA/testsrc_1080p.mp4" -f rawvideo -pix_fmt nv12 - 2>"$T/ffmpeg.log" \
    | "$BIN/vasd-export-probe" match "$T/frame.nv12" 1920 1080 >"$T/match.txt" || fail "match failed"
set -o pipefail
cat "$T/match.txt" >&2
PSNR=$(sed -n 's/.*psnr=\([0-9.]*\).*/\1/p' "$T/match.txt")
"$PY" -c "import sys; sys.exit(0 if float('$PSNR') > 50 else 1)" || fail "best PSNR $PSNR dB <= 50 dB"
# The frame number vasd exported and the matching index of the independent
# decode agree modulo the clip length (300 frames; 1-based frame numbers),
# unless vasd joined the shared stream mid-clip, so report rather than require it.
stop_vasd
echo "PASS vasd_rate_pixels"

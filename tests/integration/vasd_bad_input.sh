#!/usr/bin/env bash
# vasd_bad_input: every bad input gets a clear error naming the camera or the
# field, and vasd keeps serving the good camera:
#   runtime (per camera): unreachable host (closed port), bad URL (unknown
#   protocol), unknown mount (404), a stream with no video (audio-only MP4 over
#   RTSP, and as a local file), a corrupt H.264 bitstream (decode errors
#   logged, frames keep coming);
#   startup (whole config refused, exit status 2): missing file, YAML syntax
#   error, unknown field, bad enum, duplicate id, invalid id, missing url,
#   out-of-range number, reconnect max < initial, no cameras.
CAM_PREFIX=vt-bad-$$
source "$(dirname "$0")/vasd_lib.sh"
PORT=18530 CLOSED=18539
G=$CAM_PREFIX-good

log "fixtures: audio-only MP4, corrupt H.264 MP4"
ffmpeg -v error -y -f lavfi -i sine=frequency=440:duration=4 -c:a aac "$T/audio.mp4"
ffmpeg -v error -y -i "$MEDIA/vtest.mp4" -t 20 -c:v copy -bsf:v h264_mp4toannexb -f h264 "$T/clean.h264"
"$PY" - "$T/clean.h264" "$T/corrupt.h264" <<'PYEOF'
import random, sys
d = bytearray(open(sys.argv[1], 'rb').read())
rng = random.Random(7)
# Garbage inside slice data (past the first keyframe's parameter sets), so the
# container and the stream stay parseable but the decoder meets damage.
for _ in range(80):
    off = rng.randrange(20000, len(d) - 100)
    d[off:off + 40] = bytes(rng.randrange(256) for _ in range(40))
open(sys.argv[2], 'wb').write(d)
PYEOF
ffmpeg -v quiet -y -r 10 -i "$T/corrupt.h264" -c copy "$T/corrupt.mp4" || true
[ -s "$T/corrupt.mp4" ] || fail "could not build the corrupt fixture"

start_server $PORT v=$MEDIA/vtest.mp4 aud=$T/audio.mp4 bad=$T/corrupt.mp4
cat >"$T/vasd.yaml" <<YAML
cameras:
  - {id: $G, url: "rtsp://127.0.0.1:$PORT/v"}
  - {id: $CAM_PREFIX-unreach, url: "rtsp://127.0.0.1:$CLOSED/x", reconnect: {initial_ms: 100, max_ms: 500}}
  - {id: $CAM_PREFIX-badurl, url: "foo://nowhere/x", reconnect: {initial_ms: 100, max_ms: 500}}
  - {id: $CAM_PREFIX-404, url: "rtsp://127.0.0.1:$PORT/no-such-mount", reconnect: {initial_ms: 100, max_ms: 500}}
  - {id: $CAM_PREFIX-novideo, url: "rtsp://127.0.0.1:$PORT/aud", reconnect: {initial_ms: 100, max_ms: 500}}
  - {id: $CAM_PREFIX-novideofile, url: "$T/audio.mp4", reconnect: {initial_ms: 100, max_ms: 500}}
  - {id: $CAM_PREFIX-corrupt, url: "rtsp://127.0.0.1:$PORT/bad"}
YAML
ST=$T/status.json
start_vasd "$T/vasd.yaml" "$ST" "$T/vasd.log" AI_FRAME_EXPORT_ENABLED=true
wait_for 20 "good and corrupt cameras decode" eval 'frames_at_least $ST $G 20 && frames_at_least $ST $CAM_PREFIX-corrupt 20'
wait_for 20 "corrupt camera reports decode errors" eval \
    '[ $(( $(json_get $ST $CAM_PREFIX-corrupt decode_errors) + $(json_get $ST $CAM_PREFIX-corrupt frames_corrupt) )) -gt 0 ]'

expect_cam() { # CAMERA ERROR-REGEX
    local c=$CAM_PREFIX-$1 e
    e=$(json_get "$ST" "$c" last_error)
    echo "$e" | grep -Eq "$2" || fail "$c: last_error '$e' does not match /$2/"
    [ "$(json_get "$ST" "$c" frames_decoded)" = 0 ] || fail "$c decoded frames"
    grep -E "\[vasd cam=$c\] disconnected: .*($2)" "$T/vasd.log" >/dev/null || fail "no log line naming $c with /$2/"
    log "$c: $e"
}
expect_cam unreach "Connection refused"
expect_cam badurl "Protocol not found"
expect_cam 404 "404"
expect_cam novideo "no video stream"
expect_cam novideofile "no video stream"
grep -E "\[vasd cam=$CAM_PREFIX-corrupt\] decode error" "$T/vasd.log" >/dev/null || fail "no decode error logged for the corrupt camera"
# The others keep going: the good camera is at its source rate, the corrupt one keeps decoding.
g0=$(json_get "$ST" $G frames_decoded); c0=$(json_get "$ST" $CAM_PREFIX-corrupt frames_decoded)
sleep 2
g1=$(json_get "$ST" $G frames_decoded); c1=$(json_get "$ST" $CAM_PREFIX-corrupt frames_decoded)
[ $((g1 - g0)) -ge 14 ] || fail "good camera slowed down: $((g1 - g0)) frames in 2 s (10 fps source)"
[ $((c1 - c0)) -ge 10 ] || fail "corrupt camera stopped decoding: $((c1 - c0)) frames in 2 s"
[ "$(json_get "$ST" $G reconnects)" = 0 ] || fail "good camera reconnected"
log "good camera: $((g1 - g0)) frames in 2 s; corrupt camera: $((c1 - c0)) frames, $(json_get "$ST" $CAM_PREFIX-corrupt frames_corrupt) corrupt"
[ -e /dev/shm/vas.$G ] || fail "good camera has no export"
stop_vasd

log "configuration errors refuse to start, naming the file, line and field"
bad_config() { # NAME EXPECTED-REGEX YAML
    local f=$T/$1.yaml rc=0
    printf '%s\n' "$3" >"$f"
    timeout 10 "$BIN/vasd" --config "$f" 2>"$T/$1.err" >/dev/null || rc=$?
    [ "$rc" = 2 ] || fail "config $1: exit status $rc, expected 2 ($(cat "$T/$1.err"))"
    grep -Eq "$2" "$T/$1.err" || fail "config $1: message does not match /$2/: $(cat "$T/$1.err")"
    log "config $1: $(sed -n 's/.*not starting: //p' "$T/$1.err")"
}
rc=0; timeout 10 "$BIN/vasd" --config "$T/does-not-exist.yaml" 2>"$T/missing.err" || rc=$?
[ "$rc" = 2 ] && grep -q "does-not-exist.yaml: configuration file not found" "$T/missing.err" \
    || fail "missing config: rc=$rc $(cat "$T/missing.err")"
bad_config syntax "syntax.yaml:[0-9]+:" $'cameras:\n  - {id: a, url: "rtsp://x/y"\n'
bad_config unknown "unknown.yaml:4: field 'cameras\[0\]\.trasport': unknown field" \
    $'cameras:\n  - id: a\n    url: rtsp://127.0.0.1/x\n    trasport: tcp'
bad_config transport "transport.yaml:4: field 'cameras\[0\]\.transport'" \
    $'cameras:\n  - id: a\n    url: rtsp://127.0.0.1/x\n    transport: sctp'
bad_config dup "dup.yaml:4: field 'cameras\[2\]\.id': duplicate camera id 'a'" \
    $'cameras:\n  - {id: a, url: "rtsp://127.0.0.1/x"}\n  - {id: b, url: "rtsp://127.0.0.1/y"}\n  - {id: a, url: "rtsp://127.0.0.1/z"}'
bad_config badid "badid.yaml:2: field 'cameras\[0\]\.id': 'bad/id' is not a valid camera id" \
    $'cameras:\n  - {id: bad/id, url: "rtsp://127.0.0.1/x"}'
bad_config nourl "nourl.yaml:[0-9]+: field 'cameras\[0\]\.url'" $'cameras:\n  - id: a\n    transport: tcp'
bad_config range "range.yaml:4: field 'cameras\[0\]\.decode_threads'" \
    $'cameras:\n  - id: a\n    url: rtsp://127.0.0.1/x\n    decode_threads: 1000'
bad_config backoff "backoff.yaml:[0-9]+: field 'cameras\[0\]\.reconnect\.max_ms'" \
    $'cameras:\n  - id: a\n    url: rtsp://127.0.0.1/x\n    reconnect: {initial_ms: 5000, max_ms: 100}'
bad_config nocams "nocams.yaml:[0-9]+: field 'cameras'" $'export: {slots: 4}'
bad_config exportfield "exportfield.yaml:1: field 'export\.slot': unknown field" \
    $'export: {slot: 4}\ncameras:\n  - {id: a, url: "rtsp://127.0.0.1/x"}'
printf 'export: {group: no-such-group-%s}\ncameras:\n  - {id: a, url: "rtsp://127.0.0.1/x"}\n' $$ >"$T/group.yaml"
rc=0; AI_FRAME_EXPORT_ENABLED=true timeout 10 "$BIN/vasd" --config "$T/group.yaml" 2>"$T/group.err" || rc=$?
[ "$rc" = 2 ] && grep -q "group.yaml:1: field 'export.group': no such group" "$T/group.err" \
    || fail "unknown export group: rc=$rc $(cat "$T/group.err")"
echo "PASS vasd_bad_input"

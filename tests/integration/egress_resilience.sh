#!/usr/bin/env bash
# egress_resilience: the branches under changing and broken input, standalone.
#  - resolution and parameter sets change mid-stream (new SPS/PPS in band, no
#    stream_open in between: 1080p clip then 720x528 clip): the recording starts a
#    new segment at the change, each segment has one resolution and decodes
#    cleanly; the RTP consumer decodes both parts;
#  - a reconnect with a different clip (stream_close/stream_open): new segment;
#  - parameter sets only in band (no extradata, as a camera whose SDP has no
#    sprop-parameter-sets);
#  - garbage packets (no Annex B start code): dropped, counted, logged; no crash;
#  - HEVC with B-frames (packets with pts only, as from RTSP: the branch derives
#    increasing dts) is recorded too.
# Ports 18630-18639.
source "$(dirname "$0")/egress_lib.sh"
A=$MEDIA/testsrc_1080p.mp4 # 300 frames 1920x1080
B=$MEDIA/megamind.mp4      # 271 frames 720x528

log "== resolution change in band"
"$FEED" --record "$WORK/res" --segment 4 --rtp 127.0.0.1:18630 --rtcp-port 18631 --sdp "$WORK/res.sdp" \
	--start-delay-ms 2000 --stats "$A" "$B" "$A" >"$WORK/res.out" 2>"$WORK/res.err" &
FP=$!; PIDS+=("$FP")
wait_file "$WORK/res.sdp" 100 || fail "res: no SDP"
start_consumer "$WORK/res.sdp" "$WORK/res.recv.md5" "$WORK/res.ffmpeg.err" 571
wait "$FP"
check "res: feed exit 0" [ $? -eq 0 ]
sleep 0.5
stop_consumer
total=0; sizes=""
for f in $(ls "$WORK"/res/* | sort -V); do
	n=$(nframes "$f"); total=$((total + ${n:-0})); sizes="$sizes $(dims "$f")"
	e=$(decode_errors "$f"); [ -z "$e" ] || fail "res: $(basename "$f") decode errors: $e"
	first_is_key "$f" || fail "res: $(basename "$f") does not start with a keyframe"
done
log "segment sizes:$sizes"
check "res: all frames recorded (871, got $total)" [ "$total" -eq 871 ]
check "res: segments at both resolutions" grep -q "1920x1080.*720x528.*1920x1080" <<<"$sizes"
got=$(grep -vc '^#' "$WORK/res.recv.md5")
check "res: RTP consumer decoded both parts ($got of the first 571 frames)" [ "$got" -eq 571 ]
frame_md5s "$A" >"$WORK/a.md5"; frame_md5s "$B" >"$WORK/b.md5"
grep -v '^#' "$WORK/res.recv.md5" | awk -F, '{gsub(/ /,"",$6); print $6}' >"$WORK/res.md5"
# the ffmpeg CLI keeps its first output size: it scales the 720x528 part to 1920x1080
ffmpeg -nostdin -v error -i "$B" -vf scale=1920:1080 -f framemd5 - 2>/dev/null | grep -v '^#' | awk -F, '{gsub(/ /,"",$6); print $6}' >"$WORK/b1080.md5"
check "res: RTP frames bit-exact across the change" cmp -s "$WORK/res.md5" <(cat "$WORK/a.md5" "$WORK/b1080.md5")
errs=$(grep -v -i 'exiting normally\|received signal' "$WORK/res.ffmpeg.err" | head -3)
check "res: consumer saw no decode errors${errs:+ ($errs)}" [ -z "$errs" ]

log "== reconnect with a different clip"
# Paced (8x): 571 packets in all could overrun the 512-packet queue unpaced.
"$FEED" --record "$WORK/reopen" --segment 100 --speed 8 --reopen --stats "$A" "$B" >"$WORK/reopen.out" 2>"$WORK/reopen.err"
check "reopen: feed exit 0" [ $? -eq 0 ]
mapfile -t segs < <(ls "$WORK/reopen" | sort -V)
check "reopen: one segment per connection (${#segs[@]})" [ "${#segs[@]}" -eq 2 ]
check "reopen: first 300 frames" [ "$(nframes "$WORK/reopen/${segs[0]}")" = 300 ]
check "reopen: second 271 frames at 720x528" [ "$(nframes "$WORK/reopen/${segs[1]}")" = 271 ] && [ "$(dims "$WORK/reopen/${segs[1]}")" = 720x528 ]

log "== parameter sets only in band (no extradata)"
"$FEED" --record "$WORK/inband" --segment 2 --speed 0 --no-extradata --stats "$A" >"$WORK/inband.out" 2>"$WORK/inband.err"
total=0
for f in "$WORK"/inband/*; do n=$(nframes "$f"); total=$((total + ${n:-0})); [ -z "$(decode_errors "$f")" ] || fail "inband: $f decode errors"; done
check "inband: 300 frames recorded and playable (got $total)" [ "$total" -eq 300 ]

log "== garbage packets"
# Paced (4x real time, 2.5 s): unpaced, 342 packets overrun the RTP branch's
# 256-packet queue on a loaded machine, which drops by design (egress never
# holds up ingest) and would make "sent every frame" flake.
"$FEED" --record "$WORK/garbage" --rtp 127.0.0.1:18634 --segment 2 --speed 4 --garbage-every 7 --stats "$A" \
	>"$WORK/garbage.out" 2>"$WORK/garbage.err"
check "garbage: feed exit 0 (no crash)" [ $? -eq 0 ]
g=$(sed -n 's/.*garbage=\([0-9]*\).*/\1/p' "$WORK/garbage.out")
check "garbage: recording dropped the garbage, kept every frame" [ "$(stat_field "$WORK/garbage.out" record packets_out)" = 300 ]
check "garbage: ... and counted it ($g)" [ "$(stat_field "$WORK/garbage.out" record packets_dropped)" = "$g" ]
check "garbage: RTP sent every frame" [ "$(stat_field "$WORK/garbage.out" rtp packets_out)" = 300 ]
grep -q 'WARN.*malformed packet' "$WORK/garbage.err" || fail "garbage: logged"
n=0; for f in "$WORK"/garbage/*; do p=$(nframes "$f"); n=$((n + ${p:-0})); [ -z "$(decode_errors "$f")" ] || fail "garbage: $f decode errors"; done
check "garbage: segments playable ($n frames)" [ "$n" -eq 300 ]

log "== HEVC recording"
"$FEED" --record "$WORK/hevc" --segment 5 --speed 0 --stats "$MEDIA/testsrc_1080p_hevc.mp4" >"$WORK/hevc.out" 2>"$WORK/hevc.err"
total=0; frames=0; nseg=0
for f in "$WORK"/hevc/*; do
	p=$(npackets "$f"); total=$((total + ${p:-0})); n=$(nframes "$f"); frames=$((frames + ${n:-0})); nseg=$((nseg + 1))
done
check "hevc: 300 packets recorded (got $total)" [ "$total" -eq 300 ]
# x265's open GOPs: a leading picture after the cut references the previous segment
check "hevc: frames decodable ($frames, at most one lost per cut)" [ "$frames" -ge $((300 - nseg + 1)) ]
finish

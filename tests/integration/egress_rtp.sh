#!/usr/bin/env bash
# egress_rtp: the live RTP branch, standalone, with a real RTP consumer: the ffmpeg
# CLI reading the branch's SDP (mediasoup's worker cannot be built here, see
# docs/recording-and-egress.md). Checks: the SDP (H264/90000, packetization-mode=1,
# fixed payload type, a=ssrc), every frame decoded with no error and bit-exact,
# in order; SPS/PPS inserted in band before every IDR when the camera does not
# repeat them (consumer given an SDP without sprop-parameter-sets); a send error
# with nobody listening (ECONNREFUSED) counted, never fatal. Ports 18600-18619.
source "$(dirname "$0")/egress_lib.sh"
SRC=$MEDIA/testsrc_1080p.mp4
frame_md5s "$SRC" >"$WORK/src.md5"
SENT=$(wc -l <"$WORK/src.md5")

# run_case NAME PORT FEED-OPTIONS...: feed the clip twice in real time to 127.0.0.1:PORT
# with an ffmpeg consumer that stops after the first pass's frames (the second pass
# pushes the last frames of the first through the consumer's depacketiser and
# decoder, so the count is exact).
run_case() {
	local name=$1 port=$2; shift 2
	local sdp="$WORK/$name.sdp"
	"$FEED" --rtp 127.0.0.1:$port --rtcp-port $((port + 1)) --sdp "$sdp" --start-delay-ms 2000 --loops 2 --stats "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	local fp=$!; PIDS+=("$fp")
	wait_file "$sdp" 100 || { fail "$name: no SDP written"; return; }
	cp "$sdp" "$WORK/$name.consumer.sdp"
	[ -n "${STRIP_SPROP:-}" ] && sed -i 's/; sprop-parameter-sets=[^;]*//' "$WORK/$name.consumer.sdp"
	start_consumer "$WORK/$name.consumer.sdp" "$WORK/$name.recv.md5" "$WORK/$name.ffmpeg.err" "$SENT"
	wait "$fp"
	check "$name: feed exit 0" [ $? -eq 0 ]
	sleep 0.5
	stop_consumer
	grep -v '^#' "$WORK/$name.recv.md5" 2>/dev/null | awk -F, '{gsub(/ /,"",$6); print $6}' >"$WORK/$name.md5"
	local got; got=$(wc -l <"$WORK/$name.md5")
	local errs; errs=$(grep -v -i 'exiting normally\|immediate exit\|received signal' "$WORK/$name.ffmpeg.err" | head -5)
	check "$name: consumer decoded with no errors${errs:+ ($errs)}" [ -z "$errs" ]
	check "$name: frames at the consumer $got of $SENT" [ "$got" -eq "$SENT" ]
	check "$name: received frames bit-exact and in order" cmp -s "$WORK/$name.md5" <(head -n "$got" "$WORK/src.md5")
	check "$name: all packets sent" [ "$(stat_field "$WORK/$name.out" rtp packets_out)" = $((2 * SENT)) ]
}

log "== SDP and stream with SPS/PPS from the source"
run_case plain 18600 "$SRC"
SDP=$WORK/plain.sdp
grep -q '^m=video 18600 RTP/AVP 96' "$SDP" || fail "SDP m= line"
grep -q '^a=rtpmap:96 H264/90000' "$SDP" || fail "SDP rtpmap"
grep -q 'packetization-mode=1' "$SDP" || fail "SDP packetization-mode=1"
grep -q 'profile-level-id=640028' "$SDP" || fail "SDP profile-level-id"
grep -q '^a=ssrc:[0-9]* cname:vas-cam1' "$SDP" || fail "SDP ssrc"
ok "SDP lines"

log "== no SPS/PPS in band and none in the consumer's SDP: the branch inserts them before each IDR"
STRIP_SPROP=1 run_case strip 18604 --strip-inband --pt 100 --ssrc 0x12345678 "$SRC"
grep -q '^m=video 18604 RTP/AVP 100' "$WORK/strip.sdp" || fail "SDP payload type 100"
grep -q '^a=ssrc:305419896 ' "$WORK/strip.sdp" || fail "SDP fixed ssrc"

log "== nobody listening: ECONNREFUSED counted, not fatal"
"$FEED" --rtp 127.0.0.1:18610 --rtcp-port 18611 --speed 8 --stats "$SRC" >"$WORK/refused.out" 2>"$WORK/refused.err"
check "refused: feed exit 0" [ $? -eq 0 ]
check "refused: every frame handed to the socket" [ "$(stat_field "$WORK/refused.out" rtp packets_out)" = "$SENT" ]
e=$(stat_field "$WORK/refused.out" rtp errors)
check "refused: send errors counted (errors=$e)" [ "${e:-0}" -gt 0 ]
grep -q 'Connection refused' "$WORK/refused.out" || fail "refused: last_error names ECONNREFUSED"
finish

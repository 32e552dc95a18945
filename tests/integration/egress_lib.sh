# egress_lib.sh: helpers shared by the egress_*.sh integration tests (sourced).
# Environment (set by CTest, see cmake/RuthTesting.cmake): RUTH_BIN_DIR, RUTH_MEDIA_DIR.
set -uo pipefail
BIN=${RUTH_BIN_DIR:?RUTH_BIN_DIR not set}
MEDIA=${RUTH_MEDIA_DIR:?RUTH_MEDIA_DIR not set}
FEED="$BIN/egress-feed"
export RUTH_LOG_LEVEL=${RUTH_LOG_LEVEL:-info}
WORK=$(mktemp -d /tmp/egress-test.XXXXXX)
chmod 0755 "$WORK"
PIDS=()
FAILS=0
cleanup() {
	local p
	for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
	[ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[$(date +%T)] $*" >&2; }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*" >&2; }
check() { # check DESCRIPTION CONDITION...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed (work dir kept: $WORK)" >&2; KEEP_WORK=1; exit 1; fi
	echo "all checks passed" >&2
	exit 0
}
# frames DECODED in a media file (decodes every frame)
nframes() { ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$1" 2>/dev/null | head -1 | tr -d ' ,'; }
# packets in a media file (no decode)
npackets() { ffprobe -v error -count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 "$1" 2>/dev/null | head -1 | tr -d ' ,'; }
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" 2>/dev/null | head -1; }
dims() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$1" 2>/dev/null | head -1; }
first_is_key() { ffprobe -v error -select_streams v:0 -read_intervals '%+#1' -show_entries packet=flags -of csv=p=0 "$1" 2>/dev/null | head -1 | grep -q K; }
# decode errors of a file ("" when clean)
decode_errors() { ffmpeg -nostdin -v error -i "$1" -f null - 2>&1 | head -5; }
# md5 of each decoded frame, one per line
frame_md5s() { ffmpeg -nostdin -v error -i "$1" -f framemd5 - 2>/dev/null | grep -v '^#' | awk -F, '{gsub(/ /,"",$6); print $6}'; }
stat_field() { # stat_field FILE BRANCH FIELD  (from egress-feed --stats output)
	if [ "$3" = last_error ]; then
		grep "^STATS $2 " "$1" | tail -1 | sed -n 's/.* last_error="\(.*\)"$/\1/p'
	else
		grep "^STATS $2 " "$1" | tail -1 | sed 's/ last_error=.*//' | tr ' ' '\n' | grep "^$3=" | head -1 | cut -d= -f2-
	fi
}
# An RTP consumer: ffmpeg reading the SDP; writes framemd5 to $2, stderr to $3. Sets CONSUMER_PID.
# Optional 4th argument: stop after that many frames (ffmpeg then flushes and exits by itself).
start_consumer() {
	# -flush_packets 1: each frame's line is written at once, so stopping the
	# consumer with a signal loses nothing it decoded.
	# env --default-signal=INT: background jobs of a script start with SIGINT ignored;
	# ffmpeg stopped by SIGINT flushes its decoder, by SIGTERM it does not.
	env --default-signal=INT ffmpeg -nostdin -v error -protocol_whitelist file,udp,rtp -buffer_size 4194304 -i "$1" ${4:+-frames:v $4} -flush_packets 1 -f framemd5 "$2" 2>"$3" &
	CONSUMER_PID=$!
	PIDS+=("$CONSUMER_PID")
}
stop_consumer() {
	kill -INT "$CONSUMER_PID" 2>/dev/null
	local i
	for i in $(seq 50); do kill -0 "$CONSUMER_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$CONSUMER_PID" 2>/dev/null
	wait "$CONSUMER_PID" 2>/dev/null
	return 0
}
wait_file() { local i; for i in $(seq "${2:-100}"); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

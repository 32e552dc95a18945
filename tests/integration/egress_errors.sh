#!/usr/bin/env bash
# egress_errors: recording errors stay in the recording branch. A folder that
# cannot be created (a path under a regular file), a folder without write
# permission (run as a non-root user), a full disk (a 1 MiB tmpfs when we may
# mount; else RLIMIT_FSIZE, which fails the write with EFBIG the same way):
# state "error" with a clear last_error, while the RTP branch of the same camera
# keeps sending every frame. After space comes back, recording resumes at a
# keyframe (capped backoff) and the segments written before are still playable.
source "$(dirname "$0")/egress_lib.sh"
SRC=$MEDIA/testsrc_1080p.mp4
SENT=300

rtp_ok() { # rtp_ok NAME OUTFILE
	check "$1: RTP branch sent every frame" [ "$(stat_field "$2" rtp packets_out)" = "$SENT" ]
	check "$1: RTP branch not in error" [ "$(stat_field "$2" rtp state)" != error ]
}

log "== recordings folder under a regular file"
touch "$WORK/afile"
"$FEED" --record "$WORK/afile/rec" --rtp 127.0.0.1:18620 --speed 0 --stats "$SRC" >"$WORK/notdir.out" 2>"$WORK/notdir.err"
check "notdir: feed exit 0" [ $? -eq 0 ]
check "notdir: record state error" [ "$(stat_field "$WORK/notdir.out" record state)" = error ]
le=$(stat_field "$WORK/notdir.out" record last_error)
check "notdir: last_error names the folder ($le)" grep -q "afile/rec.*Not a directory" <<<"$le"
check "notdir: nothing written" [ "$(stat_field "$WORK/notdir.out" record packets_out)" = 0 ]
rtp_ok notdir "$WORK/notdir.out"
grep -q 'ERROR.*cam=cam1 record.*Not a directory' "$WORK/notdir.err" || fail "notdir: error logged"

log "== folder without write permission (as user nobody)"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$WORK/ro"
	chmod 0555 "$WORK/ro"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FEED" --record "$WORK/ro" --rtp 127.0.0.1:18622 --speed 0 --stats \
		"$SRC" >"$WORK/ro.out" 2>"$WORK/ro.err"
	check "ro: feed exit 0" [ $? -eq 0 ]
	check "ro: record state error" [ "$(stat_field "$WORK/ro.out" record state)" = error ]
	le=$(stat_field "$WORK/ro.out" record last_error)
	check "ro: last_error says permission denied ($le)" grep -q "Permission denied" <<<"$le"
	rtp_ok ro "$WORK/ro.out"
else
	log "skipped: needs root (to drop to nobody) and setpriv"
fi

log "== full disk, then space again"
FULL=$WORK/full
mkdir -p "$FULL"
# 1080p here is ~0.75 MB per second of video (1 s segments).
if mount -t tmpfs -o size=2m egress-test "$FULL" 2>/dev/null; then
	MOUNTED=1
	log "full disk: a 2 MiB tmpfs"
	"$FEED" --record "$FULL/rec" --rtp 127.0.0.1:18624 --segment 1 --speed 1 --stats "$SRC" >"$WORK/full.out" 2>"$WORK/full.err" &
else
	MOUNTED=0
	log "full disk: cannot mount a tmpfs here; RLIMIT_FSIZE 1 MiB instead (EFBIG on every 2 s segment)"
	(trap '' XFSZ; ulimit -f 1024; exec "$FEED" --record "$FULL/rec" --rtp 127.0.0.1:18624 --segment 2 --speed 1 --stats "$SRC") \
		>"$WORK/full.out" 2>"$WORK/full.err" &
fi
FP=$!; PIDS+=("$FP")
if [ "$MOUNTED" = 1 ]; then
	# full after ~2.5 s; at 4.5 s make room again: delete every segment but the first
	sleep 4.5
	ls "$FULL/rec" | sort -V | tail -n +2 | while read -r f; do rm -f "$FULL/rec/$f"; done
fi
wait "$FP"
check "full: feed exit 0" [ $? -eq 0 ]
e=$(stat_field "$WORK/full.out" record errors)
check "full: write errors counted (errors=$e)" [ "${e:-0}" -ge 1 ]
grep -q 'ERROR.*record.*\(No space left on device\|File too large\)' "$WORK/full.err" || fail "full: error logged with its cause"
rtp_ok full "$WORK/full.out"
if [ "$MOUNTED" = 1 ]; then
	grep -q 'recording resumed' "$WORK/full.err" || fail "full: recording resumed after space came back"
	s=$(stat_field "$WORK/full.out" record segments)
	check "full: a segment finished after the error (segments=$s, want >= 3)" [ "${s:-0}" -ge 3 ]
	f=$(ls "$FULL"/rec/* | sort -V | head -1)
	n=$(nframes "$f"); e=$(decode_errors "$f")
	check "full: the segment from before the error is playable ($n frames)" [ "${n:-0}" -eq 30 ]
	check "full: ... and decodes cleanly" [ -z "$e" ]
	umount "$FULL"
fi
finish

#!/usr/bin/env bash
# vasd_decode.sh: vasd decode throughput on the 1080p clip (testsrc_1080p.mp4),
# read as a local file as fast as possible (camera url = file path,
# realtime: false) so the number is decode throughput, not the RTSP pacing.
#   decode_with_export_1080p          AI_FRAME_EXPORT_ENABLED=true vs false (same binary)
#   decode_export_off_vs_compiled_out flag false vs a vasd built with VAS_FRAME_TAP=OFF
# Uses $RUTH_BIN_DIR/vasd (Release, from `make bench`) and
# ${RUTH_BUILD_DIR}-notap/bin/vasd. One decode thread; RUNS rounds, each
# running the three variants back to back so drift on a shared machine hits
# them alike. value and baseline are the medians of the runs; ratio is the
# median of the per-round ratios (more robust to load changing between rounds
# than a ratio of medians). fps = (frames - 1) / seconds between the first and
# the last decoded frame, from vasd's status file.
set -euo pipefail
: "${RUTH_BIN_DIR:?}" "${RUTH_MEDIA_DIR:?}" "${RUTH_BUILD_DIR:?}"
VASD=$RUTH_BIN_DIR/vasd
NOTAP=${VASD_NOTAP:-${RUTH_BUILD_DIR}-notap/bin/vasd}
CLIP=$RUTH_MEDIA_DIR/testsrc_1080p.mp4
FRAMES=${FRAMES:-600}
RUNS=${RUNS:-9}
PY=/usr/bin/python3
[ -x "$VASD" ] || { echo "vasd_decode: $VASD not built" >&2; exit 1; }
[ -f "$CLIP" ] || { echo "vasd_decode: $CLIP missing (run scripts/setup)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/vasd-bench.XXXXXX")
trap 'rm -rf "$T"; rm -f /dev/shm/vas.bench-decode-$$' EXIT
cat >"$T/vasd.yaml" <<YAML
export: {ring_size: 4, slots: 4}
cameras:
  - id: bench-decode-$$
    url: "$CLIP"
    realtime: false
    loop: true
    max_frames: $FRAMES
    decode_threads: 1
YAML

# run BINARY FLAG -> prints fps
run() {
    local st=$T/status.json
    rm -f "$st"
    AI_FRAME_EXPORT_ENABLED=$2 "$1" --config "$T/vasd.yaml" --status-file "$st" --status-interval-ms 100 \
        2>>"$T/vasd.log" || { echo "vasd_decode: $1 failed:" >&2; tail -5 "$T/vasd.log" >&2; exit 1; }
    "$PY" - "$st" "$FRAMES" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))["cameras"][0]
n, s = c["frames_decoded"], c["active_s"]
if c["state"] != "done" or n < int(sys.argv[2]) or s <= 0:
    sys.exit("vasd_decode: run incomplete: %r" % c)
print("%.2f" % ((n - 1) / s))
PYEOF
}


on=() off=() notap=() r_on=() r_off=()
ratio() { "$PY" -c "print('%.4f' % ($1 / $2))"; }
for i in $(seq 1 "$RUNS"); do
    on+=("$(run "$VASD" true)")
    off+=("$(run "$VASD" false)")
    r_on+=("$(ratio "${on[-1]}" "${off[-1]}")")
    if [ -x "$NOTAP" ]; then
        notap+=("$(run "$NOTAP" false)")
        r_off+=("$(ratio "${off[-1]}" "${notap[-1]}")")
    fi
    echo "round $i: on=${on[-1]} off=${off[-1]} compiled_out=${notap[-1]:-n/a}" >&2
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ON=$(median "${on[@]}"); OFF=$(median "${off[@]}")
echo "BENCH decode_with_export_1080p value=$ON unit=fps baseline=$OFF ratio=$(median "${r_on[@]}") target=0.95"
if [ ${#notap[@]} -eq 0 ]; then
    echo "vasd_decode: $NOTAP not built (make bench builds it with -DVAS_FRAME_TAP=OFF)" >&2
    exit 1
fi
NT=$(median "${notap[@]}")
echo "BENCH decode_export_off_vs_compiled_out value=$OFF unit=fps baseline=$NT ratio=$(median "${r_off[@]}") target=0.99"

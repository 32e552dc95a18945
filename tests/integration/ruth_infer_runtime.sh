#!/usr/bin/env bash
# ruth_infer_runtime.sh: ruth-infer against real ruth-model-runtime processes.
#   blazeface-back (CPU): messi5.jpg -> a face within IoU >= 0.5 of the
#     hand-checked reference; fruits.jpg -> no face; --annotate writes a PNG
#     that ffprobe reads; the private export is unlinked afterwards.
#   ppocr-det (CPU): imageTextN.png -> text regions over the reference lines.
#   Usage and transport errors: exit codes 2 and 1 with a message.
# Bounded: every wait has a timeout; the runtimes are stopped on every exit path.
set -euo pipefail

BIN=${RUTH_BIN_DIR:?}
SRC=${RUTH_SOURCE_DIR:?}
MEDIA=${RUTH_MEDIA_DIR:?}
MODELS=${RUTH_MODELS_ROOT:?}
PY=/usr/bin/python3
TMP=$(mktemp -d /tmp/ruth_infer_runtime.XXXXXX)
RT_PID=""

cleanup() {
	if [[ -n "$RT_PID" ]] && kill -0 "$RT_PID" 2>/dev/null; then
		kill -TERM "$RT_PID" 2>/dev/null || true
		wait "$RT_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	[[ -f "$TMP/rt.log" ]] && sed 's/^/  runtime: /' "$TMP/rt.log" >&2
	exit 1
}

# start_runtime MODEL: start it on a fresh socket dir, wait for READY (30 s).
start_runtime() {
	local model=$1
	mkdir -p "$TMP/sock-$model"
	"$BIN/ruth-model-runtime" --model-dir "$MODELS/$model" --socket-dir "$TMP/sock-$model" --force-cpu \
		>"$TMP/rt.log" 2>&1 &
	RT_PID=$!
	for _ in $(seq 1 300); do
		grep -q "READY model=$model" "$TMP/rt.log" && return 0
		kill -0 "$RT_PID" 2>/dev/null || fail "runtime $model exited before READY"
		sleep 0.1
	done
	fail "runtime $model not READY within 30 s"
}

stop_runtime() {
	kill -TERM "$RT_PID"
	wait "$RT_PID" || fail "runtime exited with $? on SIGTERM"
	RT_PID=""
}

# ---------------------------------------------------------------- blazeface-back
start_runtime blazeface-back
SOCK="$TMP/sock-blazeface-back/blazeface-back.sock"
CAM="t-infer-rt-$$"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/messi5.jpg" --camera-id "$CAM" \
	--annotate "$TMP/messi.png" >"$TMP/messi.json" 2>"$TMP/infer.log" || fail "ruth-infer messi5 exit $?"
[[ ! -e "/dev/shm/vas.$CAM" ]] || fail "export /dev/shm/vas.$CAM left behind"
$PY - "$TMP/messi.json" "$SRC/tests/data/processing/blazeface_messi5.txt" <<'PYEOF' || fail "messi5: face check"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
r = json.loads(lines[0])
assert r["status"] == "OK", r
assert r["frame"]["width"] == 548 and r["frame"]["height"] == 342, r["frame"]
refs = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0]); ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0: return 0.0
    i = iw * ih
    return i / ((a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - i)
best = max((iou(d["box"], refs[0]) for d in r["detections"]), default=0.0)
print("messi5: %d detections, best IoU %.3f" % (len(r["detections"]), best))
assert best >= 0.5
assert all(len(d["points"]) == 6 for d in r["detections"])
PYEOF
ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 "$TMP/messi.png" \
	>"$TMP/probe.txt" || fail "ffprobe cannot read the annotated PNG"
[[ "$(cat "$TMP/probe.txt")" == "png,548,342" ]] || fail "annotated PNG: $(cat "$TMP/probe.txt")"

"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/fruits.jpg" >"$TMP/fruits.json" 2>>"$TMP/infer.log" ||
	fail "ruth-infer fruits exit $?"
$PY -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); assert r["status"]=="OK" and r["detections"]==[], r' \
	"$TMP/fruits.json" || fail "fruits.jpg: expected no face"

# Video: one JSON line per frame, seq 1..N.
"$BIN/ruth-infer" --socket "$SOCK" --video "$MEDIA/megamind.mp4" --frames 5 >"$TMP/video.json" 2>>"$TMP/infer.log" ||
	fail "ruth-infer video exit $?"
$PY -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; assert [r["frame"]["seq"] for r in L]==[1,2,3,4,5], L' \
	"$TMP/video.json" || fail "video: expected 5 responses with seq 1..5"

# Usage errors exit 2, transport errors exit 1.
set +e
"$BIN/ruth-infer" --socket "$SOCK" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "no input: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --video "$MEDIA/megamind.mp4" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "--video without --frames: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --image "$TMP/missing.jpg" >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "missing image: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/messi5.jpg" --threshold 7 >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "bad threshold: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/messi5.jpg" --camera-id 'bad/id' >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "bad camera id: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/messi5.jpg" --export-group no_such_group_$$ >/dev/null 2>&1; [[ $? -eq 2 ]] || fail "unknown group: expected exit 2"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/messi5.jpg" --export-group nogroup >/dev/null 2>&1; [[ $? -eq 0 ]] || fail "--export-group nogroup: expected exit 0"
"$BIN/ruth-infer" --socket "$TMP/none.sock" --image "$MEDIA/messi5.jpg" >/dev/null 2>"$TMP/err.txt"; rc=$?
set -e
[[ $rc -eq 1 ]] || fail "missing socket: expected exit 1, got $rc"
grep -q "connect" "$TMP/err.txt" || fail "missing socket: no clear message"
stop_runtime

# -------------------------------------------------------------------- ppocr-det
start_runtime ppocr-det
SOCK="$TMP/sock-ppocr-det/ppocr-det.sock"
"$BIN/ruth-infer" --socket "$SOCK" --image "$MEDIA/imageTextN.png" --annotate "$TMP/text.png" \
	>"$TMP/text.json" 2>>"$TMP/infer.log" || fail "ruth-infer imageTextN exit $?"
$PY - "$TMP/text.json" "$SRC/tests/data/processing/dbnet_imageTextN.txt" <<'PYEOF' || fail "imageTextN: text check"
import json, sys
r = json.loads(open(sys.argv[1]).read())
assert r["status"] == "OK", r
refs = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
def iou(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0]); ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0: return 0.0
    i = iw * ih
    return i / ((a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - i)
hit = sum(1 for ref in refs if max((iou(d["box"], ref) for d in r["detections"]), default=0) >= 0.5)
print("imageTextN: %d regions, %d of %d reference lines found" % (len(r["detections"]), hit, len(refs)))
assert hit == len(refs)
assert all(len(d["points"]) == 4 for d in r["detections"])
PYEOF
ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$TMP/text.png" | grep -qx png || fail "text PNG"
stop_runtime
echo "PASS"

#!/usr/bin/env bash
# fanout_cameras_blazeface: N camera streams of megamind.mp4 (one rtsp-test-server
# with N mounts of the file) -> vasd (export on) -> ruth-ai-core with a 5 fps
# BlazeFace (front, 128x128) subscription per camera -> one ruth-model-runtime
# with 2 workers (on 2 cores: taskset when the machine has more).
# For N in ${FANOUT_CAMERAS:-4 8 16}:
#   1. AI off: vasd alone for FANOUT_OFF_S (default 8 s): decode rate (fps, all cameras).
#   2. AI on: runtime + core started; after FANOUT_WARMUP_S (4 s), FANOUT_ON_S (16 s)
#      measured: utime+stime of ruth-ai-core and the runtime (/proc/PID/stat) per
#      inference answered; per-camera inference rate; vasd decode rate.
#   Baseline of the CPU figure: ort_run_cpu (ONNX Runtime Run() alone, same model,
#   same session options, one intra-op thread, pinned like the runtime), measured
#   in the same run for each N while vasd decodes the N streams (the same
#   background load the runtime sees); the idle-machine figure is printed on stderr.
# Prints
#   BENCH fanout_<N>cam_cpu_per_inference value=<us> unit=us baseline=<ORT us> ratio=<r> target=1.15
#   BENCH fanout_<N>cam_fairness value=<max/min per-camera rate> unit=ratio baseline=1 ratio=<same> target=1.2
#   BENCH fanout_<N>cam_decode_ai_on_vs_off value=<fps on> unit=fps baseline=<fps off> ratio=<on/off> target=0.95
# and, on stderr, the achieved inference rate vs the 5 fps x N asked for.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RUTH_BIN_DIR:-$ROOT/build-bench/bin}
MEDIA=${RUTH_MEDIA_DIR:-$ROOT/.cache/media}
MODELS=${RUTH_MODELS_ROOT:-$ROOT/models}
PORT=${FANOUT_PORT:-18790}
OFF_S=${FANOUT_OFF_S:-8}
WARM_S=${FANOUT_WARMUP_S:-4}
ON_S=${FANOUT_ON_S:-16}
MODEL=blazeface-front
WORK=$(mktemp -d /tmp/ruth-fanout.XXXXXX)
declare -A PID=()
CAMS=()
TICK=$(getconf CLK_TCK)

for b in rtsp-test-server vasd ruth-model-runtime ruth-ai-core ort_run_cpu; do
	[ -x "$BIN/$b" ] || { echo "fanout: $BIN/$b missing" >&2; exit 1; }
done

stop() {
	local n=$1 p=${PID[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "PID[$n]"
}
cleanup() {
	for n in "${!PID[@]}"; do stop "$n"; done
	for c in "${CAMS[@]}"; do rm -f "/dev/shm/vas.$c"; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start() { local n=$1; shift; "$@" >"$WORK/$n.log" 2>&1 & PID[$n]=$!; }
wait_for() { for _ in $(seq 1 $(($3 * 10))); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# "mtime_ns total_frames_decoded" of vasd's status file
decoded() {
	python3 -c "
import json, os, sys
p = sys.argv[1]; st = os.stat(p); d = json.load(open(p))
print(st.st_mtime_ns, sum(c['frames_decoded'] for c in d['cameras']))" "$WORK/vasd.status.json"
}
rate_between() { # t0 f0 t1 f1 -> fps
	python3 -c "import sys; t0,f0,t1,f1=map(int,sys.argv[1:]); print('%.2f' % ((f1-f0)/((t1-t0)/1e9)) if t1>t0 else 0)" "$@"
}

CORES=$(nproc)
RT_PIN=()
[ "$CORES" -gt 2 ] && RT_PIN=(taskset -c "$((CORES - 2)),$((CORES - 1))")

ONNX=$MODELS/$MODEL/weights/face_detection_front_128x128.onnx
base=$("$BIN/ort_run_cpu" "$ONNX" 1000 1 2>/dev/null |
	sed -n 's/.*ort_run_cpu_us=\([0-9.]*\).*/\1/p')
[ -n "$base" ] || { echo "fanout: ort_run_cpu failed" >&2; exit 1; }
echo "fanout: ORT Run alone, idle machine: $base us CPU per run ($CORES cores on this machine)" >&2

fail=0
for N in ${FANOUT_CAMERAS:-4 8 16}; do
	mounts=() ; CAMS=()
	for i in $(seq 1 "$N"); do mounts+=(--mount "c$i=$MEDIA/megamind.mp4"); CAMS+=("fan$N-$i-$$"); done
	start rtsp "$BIN/rtsp-test-server" --port "$PORT" "${mounts[@]}"
	wait_for "$WORK/rtsp.log" '^READY' 30 || { echo "fanout: rtsp server not ready" >&2; fail=1; break; }
	{
		echo "export: {ring_size: 4, slots: 4}"
		echo "cameras:"
		for i in $(seq 1 "$N"); do
			echo "  - {id: ${CAMS[$((i - 1))]}, url: rtsp://127.0.0.1:$PORT/c$i, transport: tcp, decode_threads: 1, timeout_ms: 3000}"
		done
	} >"$WORK/vasd.yaml"
	start vasd env AI_FRAME_EXPORT_ENABLED=true "$BIN/vasd" --config "$WORK/vasd.yaml" --status-file "$WORK/vasd.status.json" --status-interval-ms 500
	sleep 3 # connect and pass the start-up burst
	read -r ta fa <<<"$(decoded)"; sleep "$OFF_S"; read -r tb fb <<<"$(decoded)"
	off_fps=$(rate_between "$ta" "$fa" "$tb" "$fb")
	# Baseline under the same background load (vasd decoding N streams), pinned like the runtime.
	base_n=$("${RT_PIN[@]}" "$BIN/ort_run_cpu" "$ONNX" 1000 1 2>/dev/null | sed -n 's/.*ort_run_cpu_us=\([0-9.]*\).*/\1/p')
	[ -n "$base_n" ] || base_n=$base

	start rt "${RT_PIN[@]}" "$BIN/ruth-model-runtime" --model-dir "$MODELS/$MODEL" --socket-dir "$WORK" --workers 2
	wait_for "$WORK/rt.log" "READY model=$MODEL" 60 || { echo "fanout: runtime not ready" >&2; fail=1; }
	{
		echo "models_root: $MODELS"
		echo "socket_dir: $WORK"
		echo "results: $WORK/results.jsonl"
		echo "cameras: [$(IFS=,; echo "${CAMS[*]}")]"
		echo "subscriptions:"
		for c in "${CAMS[@]}"; do echo "  - {camera: $c, model: $MODEL, fps: 5}"; done
	} >"$WORK/core.yaml"
	start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
	sleep "$WARM_S"
	k0=$(cpu_ticks "${PID[core]}"); c0=$(( k0 + $(cpu_ticks "${PID[rt]}") ))
	w0=$(date +%s%N)
	read -r tc fc <<<"$(decoded)"
	sleep "$ON_S"
	k1=$(cpu_ticks "${PID[core]}"); c1=$(( k1 + $(cpu_ticks "${PID[rt]}") ))
	w1=$(date +%s%N)
	read -r td fd <<<"$(decoded)"
	on_fps=$(rate_between "$tc" "$fc" "$td" "$fd")
	mode=$(grep -oE "READY model=$MODEL mode=[a-z]+" "$WORK/rt.log" | head -1 | sed 's/.*mode=//')
	python3 - "$WORK/results.jsonl" "$w0" "$w1" "$N" "$c0" "$c1" "$TICK" "$base_n" "$off_fps" "$on_fps" "$mode" "$((k1 - k0))" <<'PY' || fail=1
import json, sys
f, w0, w1, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c0, c1, tick, base = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), float(sys.argv[8])
off_fps, on_fps, mode = float(sys.argv[9]), float(sys.argv[10]), sys.argv[11]
core_ticks = int(sys.argv[12])
per_cam = {}; ok = 0; other = {}
for l in open(f):
    r = json.loads(l)
    if not (w0 <= r["result_realtime_ns"] < w1): continue
    if r["status"] == "OK":
        ok += 1; per_cam[r["camera"]] = per_cam.get(r["camera"], 0) + 1
    else:
        other[r["status"]] = other.get(r["status"], 0) + 1
secs = (w1 - w0) / 1e9
cpu_us = (c1 - c0) / tick * 1e6
per_inf = cpu_us / ok if ok else float("inf")
rates = [per_cam.get(k, 0) / secs for k in per_cam] + [0.0] * (n - len(per_cam))
fair = max(rates) / min(rates) if min(rates) > 0 else float("inf")
print(f"fanout {n} cameras ({mode}): {ok / secs:.1f} inferences/s answered OK of {5 * n} asked; "
      f"non-OK {other}; per-camera {min(rates):.2f}..{max(rates):.2f}/s; core+runtime CPU {cpu_us / secs / 1e4:.0f}% "
      f"of one core; ORT Run alone under the same decode load {base:.0f} us (core {core_ticks / tick * 1e6 / ok if ok else 0:.0f} us/inference, runtime {(cpu_us - core_ticks / tick * 1e6) / ok if ok else 0:.0f} us/inference); decode {off_fps:.1f} fps off, {on_fps:.1f} fps on", file=sys.stderr)
def r3(x): return f"{x:.3f}" if x != float("inf") else "inf"
print(f"BENCH fanout_{n}cam_cpu_per_inference value={per_inf:.1f} unit=us baseline={base:.1f} ratio={r3(per_inf / base)} target=1.15")
print(f"BENCH fanout_{n}cam_fairness value={r3(fair)} unit=ratio baseline=1 ratio={r3(fair)} target=1.2")
print(f"BENCH fanout_{n}cam_decode_ai_on_vs_off value={on_fps:.1f} unit=fps baseline={off_fps:.1f} ratio={r3(on_fps / off_fps if off_fps else 0)} target=0.95")
PY
	for n in core rt vasd rtsp; do stop "$n"; done
	for c in "${CAMS[@]}"; do rm -f "/dev/shm/vas.$c"; done
	rm -f "$WORK"/*.sock "$WORK/results.jsonl"
done
exit $fail

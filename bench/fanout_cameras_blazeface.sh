#!/usr/bin/env bash
# fanout_cameras_blazeface: N camera streams of megamind.mp4 (one rtsp-test-server
# with N mounts of the file) -> vasd (export on) -> ruth-ai-core with a 5 fps
# BlazeFace (front, 128x128) subscription per camera -> one ruth-model-runtime
# with 2 workers (on 2 cores: taskset when the machine has more).
# For N in ${FANOUT_CAMERAS:-4 8 16}:
#   1. AI off: vasd alone for FANOUT_OFF_S (default 8 s): decode rate (fps, all cameras).
#   2. Runtime + core started, FANOUT_WARMUP_S (4 s) of warm-up.
#   3. FANOUT_WINDOWS (5) measured windows, each between two baseline windows:
#        B0 A1 B1 A2 B2 ... A5 B5
#      B: the core is stopped (SIGSTOP: no requests, the runtime idles; vasd keeps
#         decoding) and ort_run_cpu (ONNX Runtime Run() alone, same model, same
#         session options, one intra-op thread, pinned like the runtime) runs one
#         Run every 1e6 / (5 N) us, the rate the runtime sees, for FANOUT_BASE_S
#         (3 s): mean CPU per Run.
#      A: the core continued (SIGCONT), FANOUT_SETTLE_S (1 s) to settle (the
#         answers that waited in the socket), then FANOUT_WIN_S (4 s) measured:
#         CPU time of ruth-ai-core and the runtime, OK inferences, vasd's decode.
#      Window k's ratio is its CPU per OK inference over the mean of B(k-1) and
#      B(k); the BENCH ratio is the median of the window ratios. Why: this shared
#      VM changes speed by up to 1.5x for seconds at a time (ORT's paced Run read
#      2119 us before and 1821 us after one 16 s window), so one long window
#      against baselines 20 s apart compared different machine speeds (single
#      runs gave 1.14 and 1.24 at 16 cameras with the same code); adjacent
#      windows see the same speed. The same method as vasd_decode.sh and
#      bench_infer_overhead. The gates keep their phases across the stops
#      (src/core/fps_gate.h), so the request pattern after SIGCONT is the one
#      before it; the ratio of the overall figures goes to stderr too.
# FANOUT_RT_ARGS adds runtime flags (e.g. "--busy-poll-us 200"); FANOUT_TICK_SLACK_MS
# sets the core's tick_slack_ms (default: the core's, 50; 0 = every tick at its time);
# FANOUT_TICK_GROUP its tick_group (default: the core's, 4; 1 = no groups);
# FANOUT_SCHED sets the scheduling class of both, runtime --sched and the core's
# sched (default: theirs, batch; "normal" for the SCHED_OTHER comparison).
# CPU time is the sum of se.sum_exec_runtime over the process's threads
# (/proc/PID/task/*/schedstat, nanoseconds): the same quantity as utime+stime,
# without their 10 ms tick quantisation (at N=4 the core uses a few ticks per
# window, which made its per-inference figure +-30 us of noise).
#
# Why the paced baseline is the fair one: the runtime runs ORT at the request
# rate (20/s at N=4), with vasd decoding video in between; each of its Runs
# starts with the weights, the arena and ORT's code evicted from the caches, and
# costs ~1.5x a Run in a back-to-back loop, where everything stays hot. Paced at
# the same interval, under the same decode load and pinned the same way, the
# baseline has the same duty cycle and cache state as the runtime's Run, so the
# ratio measures what the core and the runtime add around Run (IPC, frame
# mapping, preprocess, postprocess, scheduling), not a cache effect that no
# request-driven server can avoid. The hot-loop figures (idle machine, and under
# the decode load) are printed on stderr for reference.
# Prints
#   BENCH fanout_<N>cam_cpu_per_inference value=<us, all windows> unit=us baseline=<paced ORT us, all B> ratio=<median window ratio> target=1.15
#   BENCH fanout_<N>cam_fairness value=<max/min per-camera rate> unit=ratio baseline=1 ratio=<same> target=1.2
#   BENCH fanout_<N>cam_decode_ai_on_vs_off value=<fps on> unit=fps baseline=<fps off> ratio=<on/off> target=0.95
# and, on stderr, every window's figures, the achieved inference rate vs the
# 5 fps x N asked for, the split core / runtime, and the runtime's own median
# timings_us (queue, preprocess, infer, postprocess) over the measured windows:
# where its CPU goes.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${RUTH_BIN_DIR:-$ROOT/build-bench/bin}
MEDIA=${RUTH_MEDIA_DIR:-$ROOT/.cache/media}
MODELS=${RUTH_MODELS_ROOT:-$ROOT/models}
PORT=${FANOUT_PORT:-18790}
OFF_S=${FANOUT_OFF_S:-8}
WARM_S=${FANOUT_WARMUP_S:-4}
WINDOWS=${FANOUT_WINDOWS:-5}
SETTLE_S=${FANOUT_SETTLE_S:-1}
WIN_S=${FANOUT_WIN_S:-4}
BASE_S=${FANOUT_BASE_S:-3}
MODEL=blazeface-front
WORK=$(mktemp -d /tmp/ruth-fanout.XXXXXX)
declare -A PID=()
CAMS=()

for b in rtsp-test-server vasd ruth-model-runtime ruth-ai-core ort_run_cpu; do
	[ -x "$BIN/$b" ] || { echo "fanout: $BIN/$b missing" >&2; exit 1; }
done

stop() {
	local n=$1 p=${PID[$1]:-}
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	kill -CONT "$p" 2>/dev/null # the core may be stopped (baseline windows)
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
# CPU ns of a process: its live threads' sum_exec_runtime (a thread that exits
# inside the window takes its time with it; the core is one thread, the
# runtime's workers live as long as it does).
# "%.0f", not "%d": Debian's awk (mawk) clamps %d to 2^31 - 1, i.e. 2.1 s of CPU.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
# ort_run_cpu ARGS... -> its mean CPU us per Run (empty on failure)
ort_us() { "${RT_PIN[@]}" "$BIN/ort_run_cpu" "$ONNX" "$@" 2>"$WORK/ort.err" | sed -n 's/.*ort_run_cpu_us=\([0-9.]*\).*/\1/p'; }
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
base=$(ort_us 1000 1)
[ -n "$base" ] || { echo "fanout: ort_run_cpu failed: $(cat "$WORK/ort.err")" >&2; exit 1; }
echo "fanout: ORT Run alone, hot loop, idle machine: $base us CPU per run ($CORES cores on this machine)" >&2

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
	# Hot-loop Run under the decode load, pinned like the runtime (stderr only).
	hot_n=$(ort_us 500 1)
	[ -n "$hot_n" ] || { echo "fanout: ort_run_cpu failed under load: $(cat "$WORK/ort.err")" >&2; fail=1; break; }
	interval=$((1000000 / (5 * N)))
	paced_runs=$((BASE_S * 1000000 / interval))

	# shellcheck disable=SC2086 # FANOUT_RT_ARGS: extra runtime flags, word-split on purpose
	start rt "${RT_PIN[@]}" "$BIN/ruth-model-runtime" --model-dir "$MODELS/$MODEL" --socket-dir "$WORK" --workers 2 \
		${FANOUT_SCHED:+--sched "$FANOUT_SCHED"} ${FANOUT_RT_ARGS:-}
	wait_for "$WORK/rt.log" "READY model=$MODEL" 60 || { echo "fanout: runtime not ready" >&2; fail=1; }
	{
		echo "models_root: $MODELS"
		echo "socket_dir: $WORK"
		echo "results: $WORK/results.jsonl"
		[ -z "${FANOUT_TICK_SLACK_MS:-}" ] || echo "tick_slack_ms: $FANOUT_TICK_SLACK_MS"
		[ -z "${FANOUT_TICK_GROUP:-}" ] || echo "tick_group: $FANOUT_TICK_GROUP"
		[ -z "${FANOUT_SCHED:-}" ] || echo "sched: $FANOUT_SCHED"
		echo "cameras: [$(IFS=,; echo "${CAMS[*]}")]"
		echo "subscriptions:"
		for c in "${CAMS[@]}"; do echo "  - {camera: $c, model: $MODEL, fps: 5}"; done
	} >"$WORK/core.yaml"
	start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
	sleep "$WARM_S"
	# B0 A1 B1 ... A_WINDOWS B_WINDOWS; one line per window in windows.txt:
	# w0 w1 core_ns rt_ns base_before base_after t_dec0 frames0 t_dec1 frames1
	: >"$WORK/windows.txt"
	prev_base=""
	for k in $(seq 0 "$WINDOWS"); do
		kill -STOP "${PID[core]}"
		sleep 0.5 # the requests in flight finish; the runtime idles
		base_k=$(ort_us "$paced_runs" 1 --interval-us "$interval")
		[ -n "$base_k" ] || { echo "fanout: ort_run_cpu failed under load: $(cat "$WORK/ort.err")" >&2; fail=1; break; }
		kill -CONT "${PID[core]}"
		[ -n "$prev_base" ] && echo "$win $prev_base $base_k $dec" >>"$WORK/windows.txt"
		prev_base=$base_k
		[ "$k" -lt "$WINDOWS" ] || break
		sleep "$SETTLE_S"
		k0=$(cpu_ns "${PID[core]}"); r0=$(cpu_ns "${PID[rt]}"); w0=$(date +%s%N)
		read -r tc fc <<<"$(decoded)"
		sleep "$WIN_S"
		k1=$(cpu_ns "${PID[core]}"); r1=$(cpu_ns "${PID[rt]}"); w1=$(date +%s%N)
		read -r td fd <<<"$(decoded)"
		win="$w0 $w1 $((k1 - k0)) $((r1 - r0))"
		dec="$tc $fc $td $fd"
	done
	[ "$fail" = 0 ] || break
	mode=$(grep -oE "READY model=$MODEL mode=[a-z]+" "$WORK/rt.log" | head -1 | sed 's/.*mode=//')
	# The core writes every results line before it exits (and at most 100 ms late).
	for n in core rt; do stop "$n"; done
	echo "fanout $N cameras: runtime $(grep -oE '[0-9]+ run in a group after its first' "$WORK/rt.log" | tail -1)," \
		"$(grep -oE 'busy-poll caught [0-9]+ of [0-9]+' "$WORK/rt.log" | tail -1);" \
		"scheduling class: runtime $(grep -oE 'sched=[a-z]+' "$WORK/rt.log" | head -1)," \
		"core $(grep -oE 'sched=[a-z]+' "$WORK/core.log" | head -1)" >&2
	python3 - "$WORK/results.jsonl" "$WORK/windows.txt" "$N" "$hot_n" "$off_fps" "$mode" "$interval" <<'PY' || fail=1
import json, statistics, sys
f, wf, n, hot, off_fps, mode, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
wins = [[float(x) for x in l.split()] for l in open(wf) if l.strip()]
if not wins:
    sys.exit("fanout: no measured window")
results = [json.loads(l) for l in open(f) if l.endswith("\n")]  # skip a line being written
tim = {"queue": [], "preprocess": [], "infer": [], "postprocess": []}
per_cam = {}; other = {}; ratios = []
tot_ok = tot_cpu = tot_core = tot_rt = tot_secs = dec_frames = dec_secs = 0.0
bases = []
for i, (w0, w1, core_ns, rt_ns, b0, b1, tc, fc, td, fd) in enumerate(wins):
    ok = 0
    for r in results:
        if not (w0 <= r["result_realtime_ns"] < w1): continue
        if r["status"] == "OK":
            ok += 1; per_cam[r["camera"]] = per_cam.get(r["camera"], 0) + 1
            for k in tim: tim[k].append(r["timings_us"][k])
        else:
            other[r["status"]] = other.get(r["status"], 0) + 1
    cpu_us = (core_ns + rt_ns) / 1e3
    base = (b0 + b1) / 2
    per_inf = cpu_us / ok if ok else float("inf")
    ratios.append(per_inf / base)
    print(f"fanout {n} cameras: window {i + 1}: {ok} OK, core {core_ns / 1e3 / max(ok, 1):.1f} + runtime "
          f"{rt_ns / 1e3 / max(ok, 1):.0f} us/inference; paced Run {b0:.0f} before, {b1:.0f} after; ratio {per_inf / base:.3f}",
          file=sys.stderr)
    tot_ok += ok; tot_cpu += cpu_us; tot_core += core_ns / 1e3; tot_rt += rt_ns / 1e3; tot_secs += (w1 - w0) / 1e9
    bases += [b0, b1] if i == 0 else [b1]
    if td > tc:
        dec_frames += fd - fc; dec_secs += (td - tc) / 1e9
base = sum(bases) / len(bases)
per_inf = tot_cpu / tot_ok if tot_ok else float("inf")
on_fps = dec_frames / dec_secs if dec_secs else 0.0
rates = [per_cam.get(k, 0) / tot_secs for k in per_cam] + [0.0] * (n - len(per_cam))
fair = max(rates) / min(rates) if min(rates) > 0 else float("inf")
med = ", ".join(f"{k} {statistics.median(v):.0f}" for k, v in tim.items() if v)
ratio = statistics.median(ratios)
print(f"fanout {n} cameras ({mode}): {tot_ok / tot_secs:.1f} inferences/s answered OK of {5 * n} asked; "
      f"non-OK {other}; per-camera {min(rates):.2f}..{max(rates):.2f}/s; core+runtime CPU {tot_cpu / tot_secs / 1e4:.1f}% "
      f"of one core: core {tot_core / tot_ok if tot_ok else 0:.1f} us/inference, runtime {tot_rt / tot_ok if tot_ok else 0:.0f} us/inference; "
      f"ORT Run alone under the same decode load {base:.0f} us paced every {interval} us, {hot:.0f} us hot loop; "
      f"decode {off_fps:.1f} fps off, {on_fps:.1f} fps on", file=sys.stderr)
print(f"fanout {n} cameras: window ratios {' '.join(f'{r:.3f}' for r in ratios)}; median {ratio:.3f}; "
      f"ratio of the overall figures {per_inf / base:.3f}", file=sys.stderr)
print(f"fanout {n} cameras: runtime's own median timings_us: {med or 'none (no OK result)'}", file=sys.stderr)
def r3(x): return f"{x:.3f}" if x != float("inf") else "inf"
print(f"BENCH fanout_{n}cam_cpu_per_inference value={per_inf:.1f} unit=us baseline={base:.1f} ratio={r3(ratio)} target=1.15")
print(f"BENCH fanout_{n}cam_fairness value={r3(fair)} unit=ratio baseline=1 ratio={r3(fair)} target=1.2")
print(f"BENCH fanout_{n}cam_decode_ai_on_vs_off value={on_fps:.1f} unit=fps baseline={off_fps:.1f} ratio={r3(on_fps / off_fps if off_fps else 0)} target=0.95")
PY
	for n in vasd rtsp; do stop "$n"; done
	for c in "${CAMS[@]}"; do rm -f "/dev/shm/vas.$c"; done
	rm -f "$WORK"/*.sock "$WORK/results.jsonl"
done
exit $fail

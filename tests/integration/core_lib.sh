# core_lib.sh: helpers sourced by the core_*.sh integration tests (and the demo
# and fan-out bench use the same shape). Every process a test starts is recorded
# and killed by the EXIT trap; shm objects of the test's cameras and the work
# folder (sockets, logs) are removed too. Tests run with a bounded time.
set -u
BIN=${RUTH_BIN_DIR:?RUTH_BIN_DIR not set}
MEDIA=${RUTH_MEDIA_DIR:?RUTH_MEDIA_DIR not set}
MODELS=${RUTH_MODELS_ROOT:?RUTH_MODELS_ROOT not set}
WORK=$(mktemp -d /tmp/ruth-core-test.XXXXXX)
declare -A PID=()
CAMS=()
KEEP_WORK=${KEEP_WORK:-0}

log() { echo "[$(date +%H:%M:%S.%N | cut -c1-12)] $*" >&2; }

cleanup() {
	local rc=$?
	for n in "${!PID[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null; done
	for _ in $(seq 1 30); do
		local alive=0
		for n in "${!PID[@]}"; do kill -0 "${PID[$n]}" 2>/dev/null && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null; done
	for c in "${CAMS[@]}"; do rm -f "/dev/shm/vas.$c"; done
	if [ "$rc" != 0 ]; then
		for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "---- $f (tail)" >&2; tail -25 "$f" >&2; }; done
	fi
	[ "$KEEP_WORK" = 1 ] || rm -rf "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { log "FAIL: $*"; exit 1; }
need() { for b in "$@"; do [ -x "$BIN/$b" ] || { log "SKIP: $BIN/$b not built"; exit 77; }; done; }

# start NAME cmd args... : background process, output in $WORK/NAME.log
start() {
	local name=$1; shift
	"$@" >"$WORK/$name.log" 2>&1 &
	PID[$name]=$!
}
# stop NAME [SIG]
stop() {
	local name=$1 sig=${2:-TERM}
	local p=${PID[$name]:-}
	[ -n "$p" ] || return 0
	kill -"$sig" "$p" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "PID[$name]"
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
# thread_policies PID: the scheduling policies of every thread of PID, sorted,
# unique, space-separated ("SCHED_BATCH", "SCHED_OTHER SCHED_BATCH", ...).
thread_policies() {
	local t
	for t in /proc/"$1"/task/*; do chrt -p "${t##*/}" 2>/dev/null | sed -n 's/.*policy: //p'; done | sort -u | xargs
}

# wait_for FILE PATTERN TIMEOUT_S
wait_for() {
	local f=$1 pat=$2 t=$3
	for _ in $(seq 1 $((t * 10))); do
		grep -qE "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_rtsp() { # PORT NAME=FILE...
	local port=$1; shift
	local args=()
	for m in "$@"; do args+=(--mount "$m"); done
	start rtsp "$BIN/rtsp-test-server" --port "$port" "${args[@]}"
	wait_for "$WORK/rtsp.log" '^READY' 20 || fail "rtsp-test-server did not print READY"
}

# write_vasd_config FILE PORT CAM=MOUNT...
write_vasd_config() {
	local f=$1 port=$2; shift 2
	{
		echo "export: {ring_size: 4, slots: 8}" # 8 slots: a frame lives ~330 ms, slack for sanitizer builds
		echo "cameras:"
		for cm in "$@"; do
			echo "  - {id: ${cm%%=*}, url: rtsp://127.0.0.1:$port/${cm#*=}, transport: tcp, decode_threads: 1, timeout_ms: 2000, reconnect: {initial_ms: 200, max_ms: 1000}}"
			CAMS+=("${cm%%=*}")
		done
	} >"$f"
}

start_vasd() { # CONFIG [NAME]
	local name=${2:-vasd}
	start "$name" env AI_FRAME_EXPORT_ENABLED=true "$BIN/vasd" --config "$1" --status-file "$WORK/$name.status.json" --status-interval-ms 500
}

start_runtime() { # MODEL_ID [extra args...]
	local m=$1; shift
	start "rt-$m" "$BIN/ruth-model-runtime" --model-dir "$MODELS/$m" --socket-dir "$WORK" "$@"
	wait_for "$WORK/rt-$m.log" "READY model=$m" 60 || fail "runtime $m did not become ready"
}

ctl() { "$BIN/ruthctl" --socket "$WORK/core.sock" "$@"; }

# start_core_5fps RESULTS EXTRA_LINE CAMERA...: a core on the control socket
# $WORK/core.sock with one 5 fps blazeface-front subscription per camera,
# EXTRA_LINE added to its config (a key such as "tick_slack_ms: 0", or ""),
# results to RESULTS; returns once a result is OK and 2 s more have passed
# (the gates past their first ticks).
start_core_5fps() {
	local results=$1 extra=$2; shift 2
	{
		echo "models_root: $MODELS"
		echo "socket_dir: $WORK"
		echo "control_socket: $WORK/core.sock"
		echo "results: $results"
		echo "$extra"
		echo "cameras: [$(IFS=,; echo "$*")]"
		echo "subscriptions:"
		for c in "$@"; do echo "  - {camera: $c, model: blazeface-front, fps: 5}"; done
	} >"$WORK/core.yaml"
	start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
	wait_for "$WORK/core.log" 'READY cameras=' 10 || fail "core not ready"
	wait_for "$results" '"status":"OK"' 20 || fail "no OK result within 20 s"
	sleep 2
}

# Python helper over the results file: prints JSON stats.
#   results_stats FILE MODEL CAMERA FROM_NS TO_NS
results_stats() {
	python3 - "$@" <<'PY'
import json, sys
f, model, cam, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n = ok = dets = 0; statuses = {}; gens = set()
for line in open(f):
    try: r = json.loads(line)
    except Exception: continue
    if r.get("model") != model or (cam != "*" and r.get("camera") != cam): continue
    t = r.get("result_realtime_ns", 0)
    if not (t0 <= t < t1): continue
    n += 1
    statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    if r["status"] == "OK":
        ok += 1
        dets += len(r.get("detections", []))
    gens.add(str(r.get("generation")))
print(json.dumps({"n": n, "ok": ok, "dets": dets, "rate": n / ((t1 - t0) / 1e9), "statuses": statuses, "generations": sorted(gens)}))
PY
}
now_ns() { date +%s%N; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

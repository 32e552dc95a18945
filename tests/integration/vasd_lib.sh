# vasd_lib.sh: helpers shared by vasd's integration tests (sourced, not run).
# Every process a test starts is recorded and killed by pid in the EXIT trap,
# every shm object named after the test's camera-id prefix is removed, and the
# test's private folder is deleted, so a failing test leaves nothing behind.
set -euo pipefail

: "${RUTH_BIN_DIR:?RUTH_BIN_DIR not set (run through ctest)}"
: "${RUTH_MEDIA_DIR:?RUTH_MEDIA_DIR not set (run through ctest)}"
BIN=$RUTH_BIN_DIR
MEDIA=$RUTH_MEDIA_DIR
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/vasd-test.XXXXXX")
export TMPDIR=$T   # rtsp-test-server's extracted streams land here too
PIDS=()
# Camera ids of this test start with this prefix (test name + pid): unique
# across parallel ctest runs, and the cleanup removes exactly these objects.
CAM_PREFIX=${CAM_PREFIX:-vt-$$}

log() { echo "[$(date +%H:%M:%S.%3N)] $*" >&2; }
fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do [ -f "$f" ] && { echo "---- $f (tail)" >&2; tail -n 25 "$f" >&2; }; done; exit 1; }

cleanup() {
    local rc=$?
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
    rm -f /dev/shm/vas."$CAM_PREFIX"* 2>/dev/null || true
    rm -rf "$T"
    exit $rc
}
trap cleanup EXIT

# start_server PORT NAME=FILE...; sets SRV_PID. Waits for READY (20 s).
start_server() {
    local port=$1; shift
    local args=() m
    for m in "$@"; do args+=(--mount "$m"); done
    local out="$T/srv-$port.$RANDOM.out"
    "$BIN/rtsp-test-server" --port "$port" "${args[@]}" >"$out" 2>>"$T/srv-$port.log" &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for i in $(seq 1 200); do
        grep -q READY "$out" 2>/dev/null && return 0
        kill -0 "$SRV_PID" 2>/dev/null || fail "rtsp-test-server on port $port exited"
        sleep 0.1
    done
    fail "rtsp-test-server on port $port not READY in 20 s"
}

# start_vasd CONFIG STATUS LOG [ENV=VALUE...]; sets VASD_PID.
start_vasd() {
    local cfg=$1 st=$2 lg=$3; shift 3
    env "$@" "$BIN/vasd" --config "$cfg" --status-file "$st" --status-interval-ms 200 2>"$lg" &
    VASD_PID=$!
    PIDS+=("$VASD_PID")
}

# json_get STATUS CAMERA FIELD: one field of one camera from the status file.
json_get() {
    "$PY" - "$@" <<'PYEOF'
import json, sys
path, cam, field = sys.argv[1:4]
try:
    d = json.load(open(path))
except Exception:
    print(""); sys.exit(0)
if cam == "-":
    v = d.get(field, "")
else:
    c = [c for c in d["cameras"] if c["id"] == cam]
    v = c[0].get(field, "") if c else ""
print(json.dumps(v) if isinstance(v, bool) else v)
PYEOF
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
    local secs=$1 what=$2; shift 2
    local end=$(( $(date +%s%N) + secs * 1000000000 ))
    while [ "$(date +%s%N)" -lt "$end" ]; do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out after ${secs}s waiting for: $what"
}

# field_ge STATUS CAMERA FIELD N: the (numeric) field is present and >= N.
field_ge() {
    local v; v=$(json_get "$1" "$2" "$3")
    [ -n "$v" ] && [ "${v%.*}" -ge "$4" ]
}
frames_at_least() { field_ge "$1" "$2" frames_decoded "$3"; }

# stop_vasd: SIGTERM and wait (10 s), require exit status 0.
stop_vasd() {
    kill -TERM "$VASD_PID"
    local i
    for i in $(seq 1 100); do
        kill -0 "$VASD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$VASD_PID" 2>/dev/null && fail "vasd did not exit within 10 s of SIGTERM"
    local rc=0
    wait "$VASD_PID" || rc=$?
    [ "$rc" -eq 0 ] || fail "vasd exited with status $rc after SIGTERM"
}

#!/usr/bin/env bash
# deploy_health: ruth-health (the containers' IPC health probe) and
# deploy/docker/healthcheck.sh fail the right way when there is nothing healthy
# to ask. Their success paths, against real processes, are checked by
# deploy_embedded.
#   ruth-health: usage errors -> exit 2 with a message; no socket, a peer that
#   speaks something else, a peer that never answers -> exit 1, bounded by
#   --timeout-ms.
#   healthcheck.sh: missing or stale vasd status file -> 1; model.yaml without
#   model_id -> 1; a quoted model_id is parsed; unknown kind -> 2.
set -euo pipefail
BIN=${RUTH_BIN_DIR:?RUTH_BIN_DIR not set}
H="$BIN/ruth-health"
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deploy_health.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect CODE PATTERN -- ARGS: ruth-health ARGS exits CODE and says PATTERN.
expect() {
    local code=$1 pat=$2; shift 3
    local rc=0 out
    out=$("$H" "$@" 2>&1) || rc=$?
    [ "$rc" = "$code" ] || fail "ruth-health $*: exit $rc, expected $code; output: $out"
    printf '%s' "$out" | grep -q -- "$pat" || fail "ruth-health $*: output lacks '$pat': $out"
    echo "ok: ruth-health $* -> exit $rc ($(printf '%s' "$out" | grep -- "$pat" | head -n 1 | cut -c1-120))"
}
expect 2 "socket PATH is required" --
expect 2 "expected gpu, cpu or stub" -- --socket /x.sock --expect-mode tpu
expect 2 "expected 1..600000" -- --socket /x.sock --timeout-ms 0
expect 2 "unexpected argument" -- --socket /x.sock extra
expect 1 "handshake failed" -- --socket "$tmp/none.sock" --timeout-ms 500

# A peer that answers garbage, and one that accepts and never answers.
"$PY" - "$tmp/garbage.sock" "$tmp/silent.sock" <<'PYEOF' &
import os, socket, sys, threading, time
def serve(path, reply):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path); s.listen(4)
    while True:
        c, _ = s.accept()
        if reply:
            c.recv(4096)
            c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" + b"x" * 64)
        threading.Thread(target=lambda c=c: (time.sleep(30), c.close()), daemon=True).start()
for p, r in ((sys.argv[1], True), (sys.argv[2], False)):
    threading.Thread(target=serve, args=(p, r), daemon=True).start()
time.sleep(60)
PYEOF
pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/garbage.sock" ] && [ -S "$tmp/silent.sock" ] && break; sleep 0.1; done
[ -S "$tmp/silent.sock" ] || fail "test peers did not start"
expect 1 "handshake failed" -- --socket "$tmp/garbage.sock" --timeout-ms 1000
start=$(date +%s%N)
expect 1 "handshake failed" -- --socket "$tmp/silent.sock" --timeout-ms 700
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "a silent peer held ruth-health for ${ms} ms (timeout 700 ms)"
echo "ok: silent peer given up after ${ms} ms"

# deploy/docker/healthcheck.sh, the containers' HEALTHCHECK, on what it must refuse.
HC="$(dirname "${BASH_SOURCE[0]}")/../../deploy/docker/healthcheck.sh"
hc() { # CODE PATTERN -- ENV... KIND: run healthcheck.sh with ENV, expect CODE and PATTERN
    local code=$1 pat=$2; shift 3
    local rc=0 out
    out=$(env RUTH_HEALTH_BIN_DIR="$BIN" "$@" 2>&1) || rc=$?
    [ "$rc" = "$code" ] || fail "healthcheck.sh ${*: -1}: exit $rc, expected $code; output: $out"
    [ -z "$pat" ] || printf '%s' "$out" | grep -q -- "$pat" || fail "healthcheck.sh: output lacks '$pat': $out"
    echo "ok: healthcheck.sh ${*: -1} -> exit $rc${pat:+ ($pat)}"
}
st="$tmp/status.json"
hc 1 "no status file" -- RUTH_VASD_STATUS_FILE="$st" sh "$HC" vasd
echo '{}' > "$st"
hc 0 "" -- RUTH_VASD_STATUS_FILE="$st" sh "$HC" vasd
touch -d '-60 seconds' "$st"
hc 1 "not rewritten for" -- RUTH_VASD_STATUS_FILE="$st" sh "$HC" vasd
mkdir -p "$tmp/model"
printf 'model_name: x\n' > "$tmp/model/model.yaml"
hc 1 "no model_id" -- RUTH_MODEL_DIR="$tmp/model" RUTH_SOCKET_DIR="$tmp" sh "$HC" runtime
printf 'model_id: "quoted-id"  # comment\n' > "$tmp/model/model.yaml"
hc 1 "quoted-id.sock" -- RUTH_MODEL_DIR="$tmp/model" RUTH_SOCKET_DIR="$tmp" sh "$HC" runtime
hc 2 "usage" -- sh "$HC" bogus
echo "PASS deploy_health"

#!/usr/bin/env bash
# End to end: rtsp-test-server (megamind.mp4) -> vasd (export on) ->
# ruth-model-runtime (blazeface-front, CPU) -> ruth-ai-core at 5 fps.
# Results arrive at 5 +- 1 per second, status OK, faces found on Megamind.
source "$(dirname "$0")/core_lib.sh"
need rtsp-test-server vasd ruth-model-runtime ruth-ai-core ruthctl
CAM=core-e2e-$$
start_rtsp 18700 mm="$MEDIA/megamind.mp4"
write_vasd_config "$WORK/vasd.yaml" 18700 "$CAM=mm"
start_vasd "$WORK/vasd.yaml"
start_runtime blazeface-front --force-cpu --workers 1
cat >"$WORK/core.yaml" <<YAML
models_root: $MODELS
socket_dir: $WORK
control_socket: $WORK/core.sock
results: $WORK/results.jsonl
cameras: [$CAM]
subscriptions:
  - {camera: $CAM, model: blazeface-front, fps: 5}
YAML
start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
wait_for "$WORK/core.log" 'READY cameras=' 10 || fail "core not ready"
# Scheduling class (docs/runtime.md, "Scheduling class"): the core and every
# runtime thread run as SCHED_BATCH by default; vasd keeps the class it was
# started with (this shell's).
pc=$(thread_policies "${PID[core]}"); pr=$(thread_policies "${PID[rt-blazeface-front]}")
pv=$(thread_policies "${PID[vasd]}"); psh=$(thread_policies $$)
log "scheduling: core '$pc', runtime '$pr', vasd '$pv' (test shell '$psh')"
[ "$pc" = SCHED_BATCH ] || fail "core runs as '$pc', not SCHED_BATCH"
[ "$pr" = SCHED_BATCH ] || fail "runtime threads run as '$pr', not SCHED_BATCH"
[ "$pv" = "$psh" ] || fail "vasd's threads run as '$pv', not as started ('$psh')"
grep -q 'READY cameras=.* sched=batch' "$WORK/core.log" || fail "core's READY line does not say sched=batch"
wait_for "$WORK/results.jsonl" '"status":"OK"' 20 || fail "no OK result within 20 s"
sleep 2
t0=$(now_ns); sleep 8; t1=$(now_ns)
st=$(results_stats "$WORK/results.jsonl" blazeface-front "$CAM" "$t0" "$t1")
log "results over 8 s: $st"
rate=$(echo "$st" | jget 'd["rate"]')
ok=$(echo "$st" | jget 'd["ok"]'); n=$(echo "$st" | jget 'd["n"]'); dets=$(echo "$st" | jget 'd["dets"]')
python3 -c "import sys; r=$rate; sys.exit(0 if 4.0 <= r <= 6.0 else 1)" || fail "rate $rate not 5 +- 1 per second"
# Every result OK, except that a loaded (sanitizer, parallel ctest) machine may let
# the runtime read a frame after vasd overwrote it: FRAME_STALE, reported, never retried.
python3 -c "
import json, sys; d = json.loads(sys.argv[1]); s = d['statuses']
sys.exit(0 if d['ok'] >= 0.8 * d['n'] and set(s) <= {'OK', 'FRAME_STALE', 'BUSY'} else 1)" "$st" ||
	fail "results not OK: $st"
[ "$dets" -gt 0 ] || fail "no face detected on megamind frames"
# per-second buckets also within 5 +- 1 (allowing one boundary bucket)
python3 - "$WORK/results.jsonl" "$t0" "$t1" <<'PY' || fail "a one-second window was outside 5 +- 1"
import json, sys
t0, t1 = int(sys.argv[2]), int(sys.argv[3])
b = {}
for l in open(sys.argv[1]):
    r = json.loads(l); t = r["result_realtime_ns"]
    if t0 <= t < t1: b[int((t - t0) // 1e9)] = b.get(int((t - t0) // 1e9), 0) + 1
bad = [k for k in range(8) if not 4 <= b.get(k, 0) <= 6]
print("per-second:", [b.get(k, 0) for k in range(8)], file=sys.stderr)
sys.exit(1 if len(bad) > 1 else 0)
PY
# one line carries everything the issue asks for
python3 - "$WORK/results.jsonl" <<'PY' || fail "result line misses fields"
import json, sys
r = json.loads(open(sys.argv[1]).readlines()[-1])
for k in ("camera", "model", "fps", "frame_number", "seq", "generation", "pts_us", "capture_time", "status",
          "detections", "timings_us", "latency_us"):
    assert k in r, k
for k in ("queue", "ipc", "runtime", "total"):
    assert k in r["latency_us"], k
PY
ctl list >"$WORK/list.txt" || fail "ruthctl list failed"
grep -q "$CAM .*active" "$WORK/list.txt" || fail "camera not active in ruthctl list"
grep -q "blazeface-front *ready *cpu" "$WORK/list.txt" || fail "model not ready/cpu in ruthctl list"
cat "$WORK/list.txt" >&2
alive core || fail "core died"
log "PASS"

#!/usr/bin/env bash
# Failure isolation: kill -9 one runtime under load. Two runtimes
# (blazeface-front and blazeface-back, CPU) serve one camera at 5 fps each.
# After kill -9 of blazeface-back: blazeface-front keeps 5 +- 1/s, vasd's decode
# rate is unchanged (within 5%), the core stays up and keeps writing results,
# blazeface-back's subscription is model_unavailable (requests in flight failed
# once with MODEL_UNAVAILABLE), and it resumes when the runtime is restarted.
# Before that, the runtime is frozen for 2 s: its request in flight fails once
# with DEADLINE_EXCEEDED (enforced by the core), and the late reply is ignored.
source "$(dirname "$0")/core_lib.sh"
need rtsp-test-server vasd ruth-model-runtime ruth-ai-core ruthctl
CAM=core-kill-$$
start_rtsp 18710 mm="$MEDIA/megamind.mp4"
write_vasd_config "$WORK/vasd.yaml" 18710 "$CAM=mm"
start_vasd "$WORK/vasd.yaml"
start_runtime blazeface-front --force-cpu --workers 1
start_runtime blazeface-back --force-cpu --workers 1
cat >"$WORK/core.yaml" <<YAML
models_root: $MODELS
socket_dir: $WORK
control_socket: $WORK/core.sock
results: $WORK/results.jsonl
reconnect: {initial_ms: 100, max_ms: 1000}
request_timeout_ms: 1000
cameras: [$CAM]
subscriptions:
  - {camera: $CAM, model: blazeface-front, fps: 5}
  - {camera: $CAM, model: blazeface-back, fps: 5}
YAML
start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
wait_for "$WORK/results.jsonl" '"model":"blazeface-back".*"status":"OK"' 20 || fail "no OK from blazeface-back"
sleep 3 # past the start-up burst of the RTSP stream

# vasd's decode counter with the status file's own write time (rewritten every 500 ms)
decoded() { python3 -c "
import json, os
p = '$WORK/vasd.status.json'
st = os.stat(p); d = json.load(open(p))
print(st.st_mtime_ns, d['cameras'][0]['frames_decoded'])"; }
# window A: both runtimes alive
a0=$(now_ns); read -r ta0 d0 <<<"$(decoded)"; sleep 6; a1=$(now_ns); read -r ta1 d1 <<<"$(decoded)"
before=$(results_stats "$WORK/results.jsonl" blazeface-front "$CAM" "$a0" "$a1")
log "before kill: front $before; decoded $((d1 - d0)) frames"

core_pid=${PID[core]}
# A hung runtime: the request in flight fails with DEADLINE_EXCEEDED (enforced by
# the core, request_timeout_ms 1000 + 200 ms grace), the late reply is ignored.
kill -STOP "${PID[rt-blazeface-back]}"
sleep 2
kill -CONT "${PID[rt-blazeface-back]}"
sleep 1
n_dl=$(grep -c '"model":"blazeface-back".*"status":"DEADLINE_EXCEEDED".*enforced by ruth-ai-core' "$WORK/results.jsonl")
[ "$n_dl" = 1 ] || fail "expected one locally enforced DEADLINE_EXCEEDED for the hung runtime, got $n_dl"
log "hung runtime: the request in flight failed once with DEADLINE_EXCEEDED (core-enforced)"
# Freeze it first so a request is surely in flight when it dies (deadline 1 s).
kill -STOP "${PID[rt-blazeface-back]}"
sleep 0.5
stop rt-blazeface-back KILL 2>/dev/null
log "killed blazeface-back (-9) with a request in flight"
sleep 1
# window B: blazeface-back dead
b0=$(now_ns); read -r tb0 e0 <<<"$(decoded)"; sleep 6; b1=$(now_ns); read -r tb1 e1 <<<"$(decoded)"
after=$(results_stats "$WORK/results.jsonl" blazeface-front "$CAM" "$b0" "$b1")
back_after=$(results_stats "$WORK/results.jsonl" blazeface-back "$CAM" "$b0" "$b1")
log "after kill: front $after; back $back_after; decoded $((e1 - e0)) frames"
kill -0 "$core_pid" || fail "ruth-ai-core died"
python3 -c "import sys; r=$(echo "$after" | jget 'd["rate"]'); sys.exit(0 if 4.0 <= r <= 6.0 else 1)" ||
	fail "blazeface-front rate changed after the kill: $after"
python3 -c "
import sys
a, b = $((d1 - d0)) / ($ta1 - $ta0), $((e1 - e0)) / ($tb1 - $tb0)
print('decode rate before %.2f fps, after %.2f fps, ratio %.3f' % (a * 1e9, b * 1e9, b / a), file=sys.stderr)
sys.exit(0 if abs(b / a - 1) <= 0.05 else 1)" || fail "vasd decode rate changed by more than 5%"
ctl --json list >"$WORK/list.json" || fail "ruthctl list failed"
python3 - "$WORK/list.json" <<'PY' || fail "blazeface-back not reported model_unavailable"
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["model"]: x for x in d["subscriptions"]}
m = {x["id"]: x for x in d["models"]}
assert s["blazeface-back"]["state"] == "model_unavailable", s["blazeface-back"]
assert m["blazeface-back"]["state"] == "unavailable", m["blazeface-back"]
assert s["blazeface-front"]["state"] == "active", s["blazeface-front"]
assert s["blazeface-back"]["dropped"]["unavailable"] > 0
PY
# any request in flight at the kill failed exactly once with MODEL_UNAVAILABLE; no OK from back meanwhile
python3 - "$WORK/results.jsonl" "$b0" "$b1" <<'PY' || fail "blazeface-back results after the kill are wrong"
import json, sys
b0, b1 = int(sys.argv[2]), int(sys.argv[3])
seqs = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["model"] != "blazeface-back": continue
    seqs[r["seq"]] = seqs.get(r["seq"], 0) + 1
    if b0 <= r["result_realtime_ns"] < b1: assert r["status"] != "OK", r
assert max(seqs.values()) == 1, "a frame was reported twice (retried?)"
PY
n_unavail=$(grep -c '"model":"blazeface-back".*"status":"MODEL_UNAVAILABLE"' "$WORK/results.jsonl")
[ "$n_unavail" = 1 ] || fail "expected exactly one MODEL_UNAVAILABLE result for the request in flight, got $n_unavail"
log "the request in flight failed once with MODEL_UNAVAILABLE: $(grep '"model":"blazeface-back".*MODEL_UNAVAILABLE' "$WORK/results.jsonl" | python3 -c 'import json,sys; r=json.loads(sys.stdin.readline()); print(r["message"])')"

start_runtime blazeface-back --force-cpu --workers 1
r0=$(now_ns)
wait_for "$WORK/core.log" 'model=blazeface-back\] runtime ready' 10 || fail "core did not reconnect"
sleep 4; r1=$(now_ns)
resumed=$(results_stats "$WORK/results.jsonl" blazeface-back "$CAM" "$r0" "$r1")
log "after restart: back $resumed"
[ "$(echo "$resumed" | jget 'd["ok"]')" -gt 5 ] || fail "blazeface-back did not resume"
ctl list >&2
alive core || fail "core died"
log "PASS"

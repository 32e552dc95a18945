#!/usr/bin/env bash
# Stream agent states with real processes (blazeface-front on CPU, 5 fps):
#  1. stop vasd (SIGTERM, shm unlinked): waiting_for_export; start it again:
#     active with a new generation, and OK results carry the new generation;
#  2. kill -9 vasd (object left behind): waiting_for_export once the writer is
#     found dead (stall_ms 1000); a new vasd: active, newer generation;
#  3. stop the RTSP server (vasd alive, reconnecting): stalled; back: active.
source "$(dirname "$0")/core_lib.sh"
need rtsp-test-server vasd ruth-model-runtime ruth-ai-core ruthctl
CAM=core-restart-$$
start_rtsp 18720 mm="$MEDIA/megamind.mp4"
write_vasd_config "$WORK/vasd.yaml" 18720 "$CAM=mm"
start_vasd "$WORK/vasd.yaml"
start_runtime blazeface-front --force-cpu --workers 1
cat >"$WORK/core.yaml" <<YAML
models_root: $MODELS
socket_dir: $WORK
control_socket: $WORK/core.sock
results: $WORK/results.jsonl
stall_ms: 1000
cameras: [$CAM]
subscriptions:
  - {camera: $CAM, model: blazeface-front, fps: 5}
YAML
start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
wait_for "$WORK/results.jsonl" '"status":"OK"' 20 || fail "no OK result"
state() { ctl --json list | python3 -c "import json,sys; d=json.load(sys.stdin); c=d['cameras'][0]; print(c['state'], c['generation'], c['generation_changes'])"; }
read -r s1 g1 _ <<<"$(state)"
[ "$s1" = active ] || fail "camera not active: $s1"
stop vasd TERM
[ ! -e "/dev/shm/vas.$CAM" ] || fail "vasd left its shm object"
for _ in $(seq 1 30); do read -r s2 _ _ <<<"$(state)"; [ "$s2" = waiting_for_export ] && break; sleep 0.1; done
[ "$s2" = waiting_for_export ] || fail "agent did not go to waiting_for_export (state $s2)"
log "vasd stopped: agent $s2"
sleep 1
alive core || fail "core died while vasd was down"
t_restart=$(now_ns)
start_vasd "$WORK/vasd.yaml"
for _ in $(seq 1 100); do read -r s3 g3 gc <<<"$(state)"; [ "$s3" = active ] && break; sleep 0.1; done
[ "$s3" = active ] || fail "agent did not resume (state $s3)"
[ "$g3" != "$g1" ] || fail "generation did not change ($g1)"
[ "$gc" -ge 1 ] || fail "generation_changes not counted"
log "vasd restarted: agent $s3, generation $g1 -> $g3"
sleep 3
python3 - "$WORK/results.jsonl" "$t_restart" "$g3" <<'PY' || fail "no OK results with the new generation"
import json, sys
t, g = int(sys.argv[2]), sys.argv[3]
n = sum(1 for l in open(sys.argv[1]) for r in [json.loads(l)]
        if r["result_realtime_ns"] >= t and str(r["generation"]) == g and r["status"] == "OK")
print("OK results with generation", g, ":", n, file=sys.stderr)
sys.exit(0 if n >= 5 else 1)
PY

# vasd killed -9: its object stays behind; the agent sees no new frame, then a
# dead writer with an old heartbeat: waiting_for_export. A new vasd replaces the
# object: active again with a newer generation.
stop vasd KILL 2>/dev/null
for _ in $(seq 1 60); do read -r s4 _ _ <<<"$(state)"; [ "$s4" = waiting_for_export ] && break; sleep 0.1; done
[ "$s4" = waiting_for_export ] || fail "agent did not go to waiting_for_export after kill -9 of vasd (state $s4)"
log "vasd killed -9: agent $s4"
start_vasd "$WORK/vasd.yaml"
for _ in $(seq 1 100); do read -r s5 g5 _ <<<"$(state)"; [ "$s5" = active ] && [ "$g5" != "$g3" ] && break; sleep 0.1; done
[ "$s5" = active ] && [ "$g5" != "$g3" ] || fail "agent did not resume after vasd was killed and restarted (state $s5, generation $g5)"
log "vasd restarted after kill -9: agent $s5, generation $g3 -> $g5"
alive core || fail "core died"

# camera down, vasd alive (reconnecting, heartbeat fresh): STALLED, then ACTIVE
# again when the stream is back.
stop rtsp TERM
for _ in $(seq 1 40); do read -r s6 _ _ <<<"$(state)"; [ "$s6" = stalled ] && break; sleep 0.1; done
[ "$s6" = stalled ] || fail "agent not stalled with the camera down (state $s6)"
log "RTSP server stopped: agent $s6"
start_rtsp 18720 mm="$MEDIA/megamind.mp4"
for _ in $(seq 1 100); do read -r s7 _ _ <<<"$(state)"; [ "$s7" = active ] && break; sleep 0.1; done
[ "$s7" = active ] || fail "agent did not leave stalled when the stream came back (state $s7)"
log "RTSP server back: agent $s7"
alive core || fail "core died"
log "PASS"

#!/usr/bin/env bash
# Tick groups (docs/core.md, FPS gate rule 8, tick_group), with real processes:
# twelve cameras (a small generated clip twelve times: the subject is the core,
# not decoding) at 5 fps each on one blazeface-front runtime with 2 workers.
# Twelve ticks in a 200 ms period are ~17 ms apart, so the 50 ms slack of an
# answer often holds two or more and early requests go out in groups (at ~40
# ms apart, 2 fps, they never do: the chain's next-but-one tick is always
# beyond the slack).
#   - Default tick_group (4): the model's `grouped` counter (ruthctl list
#     --json) grows, every camera keeps 5 +- 1 results a second, every result
#     is OK, and the runtime's stop line counts requests run in a group.
#   - tick_group: 1: nothing is grouped, the rates are the same.
source "$(dirname "$0")/core_lib.sh"
need rtsp-test-server vasd ruth-model-runtime ruth-ai-core ruthctl
command -v ffmpeg >/dev/null || { log "SKIP: ffmpeg CLI not installed (scripts/setup installs it)"; exit 77; }
N=12
ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc2=size=192x144:rate=25 -t 8 -g 25 -c:v libx264 \
	-preset veryfast -bf 0 -pix_fmt yuv420p -an -movflags +faststart "$WORK/small.mp4" || fail "ffmpeg could not make the clip"
mounts=() cams=()
for i in $(seq 1 $N); do
	mounts+=("s$i=$WORK/small.mp4")
	cams+=("group$i-$$=s$i")
done
start_rtsp 18735 "${mounts[@]}"
write_vasd_config "$WORK/vasd.yaml" 18735 "${cams[@]}"
start_vasd "$WORK/vasd.yaml"
start_runtime blazeface-front --force-cpu --workers 2
C=("${CAMS[@]}")

grouped() { ctl list --json | jget "[m['grouped'] for m in d['models'] if m['id'] == 'blazeface-front'][0]"; }

# check RESULTS T0 T1: every camera 5 +- 1 results a second, all OK
check_rates() {
	for c in "${C[@]}"; do
		st=$(results_stats "$1" blazeface-front "$c" "$2" "$3")
		python3 -c "
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if 4.0 <= d['rate'] <= 6.0 and d['ok'] == d['n'] else 1)" "$st" ||
			fail "camera $c: $st (want 5 +- 1 per second, all OK)"
	done
	log "$N cameras: 5 +- 1 results/s each, all OK"
}

start_core_5fps "$WORK/group.jsonl" "" "${C[@]}"
g0=$(grouped); t0=$(now_ns); sleep 8; t1=$(now_ns); g1=$(grouped)
log "default tick_group: $((g1 - g0)) requests sent grouped in 8 s ($(grouped) in all)"
[ "$((g1 - g0))" -gt 0 ] || fail "no request sent grouped with the default tick_group"
check_rates "$WORK/group.jsonl" "$t0" "$t1"
stop core

start_core_5fps "$WORK/nogroup.jsonl" "tick_group: 1" "${C[@]}"
t0=$(now_ns); sleep 6; t1=$(now_ns)
g=$(grouped)
log "tick_group 1: $g requests sent grouped"
[ "$g" -eq 0 ] || fail "tick_group 1 sent $g requests grouped"
check_rates "$WORK/nogroup.jsonl" "$t0" "$t1"
alive core || fail "core died"
stop core

# The runtime ran the groups as groups (its stop line).
stop rt-blazeface-front
ran=$(sed -n 's/.*stopped: [0-9]* requests, [0-9]* failed, \([0-9]*\) run in a group.*/\1/p' "$WORK/rt-blazeface-front.log" | tail -1)
log "runtime: ${ran:-?} requests run in a group after its first"
[ -n "$ran" ] && [ "$ran" -gt 0 ] || fail "the runtime ran no request in a group"
log "PASS"

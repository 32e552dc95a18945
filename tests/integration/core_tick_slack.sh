#!/usr/bin/env bash
# Tick slack (docs/core.md, FPS gate rule 8), with real processes: four cameras
# (megamind.mp4 four times) at 5 fps on one blazeface-front runtime.
#   - Default slack (50 ms): some ticks are served early (ticks_early > 0 in
#     ruthctl list --json), each camera still gets 5 +- 1 results a second,
#     and results stay OK (an early request only goes to an idle connection,
#     so nothing queues and nothing earns BUSY).
#   - tick_slack_ms: 0: no tick is early, the rates are the same.
source "$(dirname "$0")/core_lib.sh"
need rtsp-test-server vasd ruth-model-runtime ruth-ai-core ruthctl
start_rtsp 18730 m1="$MEDIA/megamind.mp4" m2="$MEDIA/megamind.mp4" m3="$MEDIA/megamind.mp4" m4="$MEDIA/megamind.mp4"
C=(slack1-$$ slack2-$$ slack3-$$ slack4-$$)
write_vasd_config "$WORK/vasd.yaml" 18730 "${C[0]}=m1" "${C[1]}=m2" "${C[2]}=m3" "${C[3]}=m4"
start_vasd "$WORK/vasd.yaml"
start_runtime blazeface-front --force-cpu --workers 1

# frames exported per camera so far, from vasd's status file: "id n id n ..."
exported() {
	python3 -c "
import json, sys
print(' '.join('%s %d' % (c['id'], c['frames_exported']) for c in json.load(open(sys.argv[1]))['cameras']))" "$WORK/vasd.status.json"
}

# check RESULTS T0 T1 EXPORTED0 EXPORTED1: every camera 5 +- 1 per second, mostly
# OK. Where the camera itself delivered fewer than 6 frames a second in the
# window (four decodes under a sanitizer build, on 2 cores), at least 80% of its
# frame rate instead of 4: the subject here is the gate, not the decoder.
check_rates() {
	for c in "${C[@]}"; do
		st=$(results_stats "$1" blazeface-front "$c" "$2" "$3")
		log "$c: $st"
		python3 -c "
import json, sys
d = json.loads(sys.argv[1]); s = d['statuses']
e0 = dict(zip(*[iter(sys.argv[2].split())] * 2)); e1 = dict(zip(*[iter(sys.argv[3].split())] * 2))
src = (int(e1[sys.argv[4]]) - int(e0[sys.argv[4]])) / float(sys.argv[5])
lo = 4.0 if src >= 6 else 0.8 * src
print('source %.1f fps, results %.2f/s, lower bound %.2f' % (src, d['rate'], lo), file=sys.stderr)
sys.exit(0 if lo <= d['rate'] <= 6.0 and d['ok'] >= 0.8 * d['n'] and set(s) <= {'OK', 'FRAME_STALE', 'BUSY'} else 1)" \
			"$st" "$4" "$5" "$c" "$(python3 -c "print(($3 - $2) / 1e9)")" ||
			fail "camera $c: $st (want 5 +- 1 per second, mostly OK)"
	done
}

# ticks_early summed over the subscriptions (and each one <= its ticks)
early_ticks() {
	ctl list --json | python3 -c "
import json, sys
subs = json.load(sys.stdin)['subscriptions']
assert len(subs) == 4, subs
for s in subs:
    assert 0 <= s['ticks_early'] <= s['ticks'], s
print(sum(s['ticks_early'] for s in subs), sum(s['ticks'] for s in subs))"
}

start_core_5fps "$WORK/slack.jsonl" "" "${C[@]}"
e0=$(exported); t0=$(now_ns); sleep 8; t1=$(now_ns); e1=$(exported)
check_rates "$WORK/slack.jsonl" "$t0" "$t1" "$e0" "$e1"
read -r early ticks <<<"$(early_ticks)" || fail "ruthctl list --json: bad subscription counters"
log "default slack: $early of $ticks ticks served early"
[ "$early" -gt 0 ] || fail "no tick served early with the default tick_slack_ms"
stop core

start_core_5fps "$WORK/noslack.jsonl" "tick_slack_ms: 0" "${C[@]}"
e0=$(exported); t0=$(now_ns); sleep 6; t1=$(now_ns); e1=$(exported)
check_rates "$WORK/noslack.jsonl" "$t0" "$t1" "$e0" "$e1"
read -r early ticks <<<"$(early_ticks)" || fail "ruthctl list --json: bad subscription counters"
log "tick_slack_ms 0: $early of $ticks ticks served early"
[ "$early" -eq 0 ] && [ "$ticks" -gt 0 ] || fail "tick_slack_ms 0 served $early of $ticks ticks early"
alive core || fail "core died"
log "PASS"

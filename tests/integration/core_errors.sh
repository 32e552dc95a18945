#!/usr/bin/env bash
# Clear errors, nothing else stops: a subscription to a camera or a model that
# does not exist (ruthctl), bad core configurations (exit non-zero, the field is
# named), and run-time add/update/remove.
source "$(dirname "$0")/core_lib.sh"
need ruth-ai-core ruthctl
CAM=core-err-$$
cat >"$WORK/core.yaml" <<YAML
models_root: $MODELS
socket_dir: $WORK
control_socket: $WORK/core.sock
results: $WORK/results.jsonl
cameras: [$CAM, $CAM-b]
subscriptions:
  - {camera: $CAM, model: blazeface-front, fps: 5}
YAML
start core "$BIN/ruth-ai-core" --config "$WORK/core.yaml"
wait_for "$WORK/core.log" 'READY cameras=' 10 || fail "core not ready"
[ "$(stat -c %a "$WORK/core.sock")" = 660 ] || fail "control socket mode is not 0660"

out=$(ctl add no-such-camera blazeface-front 5 2>&1); rc=$?
[ $rc = 1 ] && grep -q "unknown camera 'no-such-camera'" <<<"$out" || fail "unknown camera: rc=$rc '$out'"
log "unknown camera -> $out"
out=$(ctl add "$CAM" no-such-model 5 2>&1); rc=$?
[ $rc = 1 ] && grep -q "unknown model 'no-such-model'" <<<"$out" || fail "unknown model: rc=$rc '$out'"
log "unknown model -> $out"
out=$(ctl add "$CAM" blazeface-back 0 2>&1); rc=$?
[ $rc != 0 ] || fail "fps 0 accepted"
out=$(ctl remove "$CAM" ppocr-det 2>&1); rc=$?
[ $rc = 1 ] && grep -q "no subscription" <<<"$out" || fail "remove of a missing subscription: rc=$rc '$out'"
out=$(echo 'garbage' | python3 -c "
import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'not json\n'); print(s.recv(4096).decode())" "$WORK/core.sock")
grep -q '"ok":false' <<<"$out" || fail "garbage request not refused: $out"

ctl add "$CAM-b" ppocr-det 2 --threshold 0.4 >/dev/null || fail "valid add refused"
ctl add "$CAM-b" ppocr-det 3 | grep -q '"updated":true' || fail "second add did not update"
ctl --json list | python3 -c "
import json,sys; d=json.load(sys.stdin); s={(x['camera'],x['model']):x for x in d['subscriptions']}
x=s[('$CAM-b','ppocr-det')]; assert x['fps']==3 and abs(x['threshold']-0.4)<1e-6, x
assert s[('$CAM','blazeface-front')]['state'] in ('model_unavailable','waiting_for_export')
assert all(c['state']=='waiting_for_export' for c in d['cameras'])
" || fail "list does not show the subscriptions"
ctl remove "$CAM-b" ppocr-det >/dev/null || fail "remove failed"
[ "$(ctl --json list | jget 'len(d["subscriptions"])')" = 1 ] || fail "remove did not remove"
alive core || fail "core stopped after bad requests"
ctl list >&2

# bad configurations: exit non-zero, message names file, line and field
bad() { # NAME NEEDLE YAML
	printf '%s\n' "$3" >"$WORK/bad-$1.yaml"
	out=$("$BIN/ruth-ai-core" --config "$WORK/bad-$1.yaml" --check 2>&1); rc=$?
	[ $rc != 0 ] || fail "bad config $1 accepted"
	grep -q -- "$2" <<<"$out" || fail "bad config $1: message '$out' does not name '$2'"
	log "bad config $1 -> $(tail -1 <<<"$out")"
}
bad unknown-field "subscriptons" "models_root: $MODELS
cameras: [a]
subscriptons: []"
bad fps "subscriptions\[0\].fps" "models_root: $MODELS
cameras: [a]
subscriptions:
  - {camera: a, model: blazeface-front, fps: -1}"
bad camera "subscriptions\[0\].camera" "models_root: $MODELS
cameras: [a]
subscriptions:
  - {camera: b, model: blazeface-front, fps: 5}"
bad model "subscriptions\[0\].model" "models_root: $MODELS
cameras: [a]
subscriptions:
  - {camera: a, model: nonexistent-model, fps: 5}"
bad syntax "bad-syntax.yaml:" "cameras: [a
subscriptions: {"
out=$("$BIN/ruth-ai-core" --config "$WORK/nonexistent.yaml" 2>&1) && fail "missing config accepted"
"$BIN/ruth-ai-core" --config "$WORK/core.yaml" --check >/dev/null 2>&1 || fail "--check refused a good config"
# a second core on the same control socket refuses to start (the live one keeps it)
out=$("$BIN/ruth-ai-core" --config "$WORK/core.yaml" 2>&1) && fail "second core started on a live control socket"
alive core || fail "core stopped"
ctl list >/dev/null || fail "first core no longer answers"
log "PASS"

#!/usr/bin/env bash
# deploy_systemd: the systemd files in deploy/systemd are valid for systemd 252
# (Debian 12) and the checks would notice if they were not.
#
#   1. systemd-analyze verify on copies of the units whose ExecStart points at
#      this build's binaries (verify refuses a unit whose binary is missing).
#      Verify exits 0 on many mistakes (unknown keys, bad values are "ignored"),
#      so any diagnostic it prints about our units fails the test too.
#   2. Negative checks: the same verification must reject four broken copies
#      (misspelt key, bad Type= value, missing binary, misspelt section).
#   3. systemd-sysusers and systemd-tmpfiles apply the snippets to a scratch
#      root: the users, groups, memberships and /run/ruth-ai they promise exist.
set -euo pipefail
SRC=${RUTH_SOURCE_DIR:?RUTH_SOURCE_DIR not set}
BIN=${RUTH_BIN_DIR:-}
UNITS="$SRC/deploy/systemd"
command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze not installed"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deploy_systemd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/units" "$tmp/stub" "$tmp/root/etc"
cp "$UNITS"/*.service "$UNITS"/*.target "$tmp/units/"
# Binaries: this build's when built, else a stub (the unit syntax is what is
# checked here; deploy_embedded runs the real binaries).
for b in vasd ruth-ai-core ruth-model-runtime; do
    if [ -n "$BIN" ] && [ -x "$BIN/$b" ]; then
        target="$BIN/$b"
    else
        printf '#!/bin/sh\nexit 0\n' > "$tmp/stub/$b"; chmod +x "$tmp/stub/$b"
        target="$tmp/stub/$b"
        echo "note: $b not built; verifying its unit against a stub executable"
    fi
    sed -i "s#/opt/ruth-ai/bin/$b #$target #" "$tmp/units"/*.service
done
grep -q "/opt/ruth-ai/bin/" "$tmp/units"/*.service && fail "an ExecStart was not rewritten: $(grep -h /opt/ruth-ai/bin/ "$tmp/units"/*.service)"

# verify UNIT...: 0 when systemd-analyze accepts them without a word about them.
verify() {
    local out rc=0
    out=$(cd "$tmp/units" && SYSTEMD_UNIT_PATH="$tmp/units:" systemd-analyze verify --man=no "$@" 2>&1) || rc=$?
    # Only diagnostics about our files count (the host's own units are not ours).
    out=$(printf '%s\n' "$out" | grep -E "$tmp|vasd|ruth-" || true)
    if [ "$rc" != 0 ] || [ -n "$out" ]; then
        printf '%s\n' "$out"
        return 1
    fi
    return 0
}

good=(./vasd.service ./ruth-ai-core.service ./ruth-ai.target
      ./ruth-model-runtime@blazeface-front.service ./ruth-model-runtime@blazeface-back.service
      ./ruth-model-runtime@ppocr-det.service)
verify "${good[@]}" || fail "systemd-analyze verify rejects the units (above)"
echo "ok: systemd-analyze verify accepts ${#good[@]} units without a diagnostic"

# Negative checks: each broken copy must be caught.
mutate() { # NAME SED-EXPR: copy vasd.service to NAME.service with SED-EXPR applied
    sed "$2" "$tmp/units/vasd.service" > "$tmp/units/$1.service"
    cmp -s "$tmp/units/vasd.service" "$tmp/units/$1.service" && fail "mutation $1 did not change the unit"
    return 0
}
mutate bad-key 's/^NoNewPrivileges=yes/NoNewPriviledges=yes/'
mutate bad-type 's/^Type=.*/Type=notfy/'
mutate bad-exec "s#^ExecStart=[^ ]*#ExecStart=$tmp/no-such-binary#"
mutate bad-section 's/^\[Service\]/[Servce]/'
for b in bad-key bad-type bad-exec bad-section; do
    if msg=$(verify "./$b.service"); then
        fail "systemd-analyze verify accepted the broken unit $b.service"
    fi
    echo "ok: broken $b.service rejected: $(printf '%s' "$msg" | head -n 1)"
    rm -f "$tmp/units/$b.service"
done

# sysusers + tmpfiles on a scratch root.
systemd-sysusers --root="$tmp/root" "$SRC/deploy/systemd/ruth-ai.sysusers.conf" >/dev/null 2>&1 ||
    fail "systemd-sysusers rejects ruth-ai.sysusers.conf"
for u in vasd ruth-model ruth-core; do
    grep -q "^$u:" "$tmp/root/etc/passwd" || fail "sysusers did not create user $u"
done
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$tmp/root/etc/group"; }
members_of() { awk -F: -v g="$1" '$1 == g { print $4 }' "$tmp/root/etc/group"; }
ruth_gid=$(gid_of ruth-ai); export_gid=$(gid_of vas-export)
[ -n "$ruth_gid" ] && [ -n "$export_gid" ] || fail "groups ruth-ai / vas-export missing"
for u in ruth-model ruth-core; do
    [ "$(awk -F: -v u="$u" '$1 == u { print $4 }' "$tmp/root/etc/passwd")" = "$ruth_gid" ] ||
        fail "$u's primary group is not ruth-ai (the runtimes' sockets admit their own gid)"
done
for u in vasd ruth-model ruth-core; do
    case ",$(members_of vas-export)," in *",$u,"*) ;; *) fail "$u is not in vas-export";; esac
done
echo "ok: sysusers creates vasd, ruth-model, ruth-core; ruth-ai is the readers' primary group; all read vas-export"
systemd-tmpfiles --root="$tmp/root" --create "$SRC/deploy/systemd/ruth-ai.tmpfiles.conf" >/dev/null 2>&1 ||
    fail "systemd-tmpfiles rejects ruth-ai.tmpfiles.conf"
st=$(stat -c '%a %g' "$tmp/root/run/ruth-ai") || fail "tmpfiles did not create /run/ruth-ai"
[ "$st" = "770 $ruth_gid" ] || fail "/run/ruth-ai is '$st', expected '770 $ruth_gid'"
echo "ok: tmpfiles creates /run/ruth-ai 0770 root:ruth-ai"
echo "PASS deploy_systemd"

#!/usr/bin/env bash
# deploy_check: deploy/check_deploy.py finds no rule broken in compose.yaml,
# compose.cpu.yaml, the Dockerfiles and the systemd units, and its self-test
# shows every rule catching a file broken on purpose. When the docker compose
# plugin is present, `docker compose config` must accept the files too.
set -euo pipefail
SRC=${RUTH_SOURCE_DIR:?RUTH_SOURCE_DIR not set}
PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml missing under $PY (scripts/setup installs it)"; exit 1; }
"$PY" "$SRC/deploy/check_deploy.py" --root "$SRC"
"$PY" "$SRC/deploy/check_deploy.py" --root "$SRC" --self-test
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    (cd "$SRC/deploy" && docker compose -f compose.yaml config -q &&
        docker compose -f compose.yaml -f compose.cpu.yaml config -q)
    echo "ok: docker compose config accepts compose.yaml and compose.cpu.yaml"
else
    echo "note: no docker compose plugin here; the structural checks above are the validation"
fi
# shm-size agrees with the numbers the docs and compose.yaml quote.
n=$("$PY" "$SRC/deploy/shm-size" --geometry 1920x1080 --slots 4 --bytes)
[ "$n" = 12455936 ] || { echo "FAIL: shm-size says $n bytes for 1080p x 4 slots, docs say 12455936"; exit 1; }
if "$PY" "$SRC/deploy/shm-size" --geometry 1920x --slots 4 >/dev/null 2>&1; then
    echo "FAIL: shm-size accepted a bad geometry"; exit 1
fi
echo "PASS deploy_check"

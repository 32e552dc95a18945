#!/bin/sh
# healthcheck.sh KIND: the container HEALTHCHECK of each image (docker runs it
# inside the container, as the container's user). Exit 0 healthy, 1 unhealthy.
#
#   runtime  asks the model runtime itself over IPC: ruth-health does HELLO +
#            HEALTH on <RUTH_SOCKET_DIR>/<model_id>.sock. The model id is the
#            one in model.yaml (the socket is named after it), unless
#            RUTH_MODEL_ID overrides it. Ready and degraded (stub or CPU
#            fallback) are healthy: restarting does not bring a GPU back. Set
#            RUTH_HEALTH_EXPECT_MODE=gpu to count a GPU-less runtime unhealthy.
#   vasd     the status file (rewritten every second) is younger than
#            RUTH_HEALTH_MAX_AGE_S (default 10) seconds.
#   core     ruthctl gets an answer on the control socket.
set -eu
# The tools sit next to this script in the images (/opt/ruth-ai/bin).
bin=${RUTH_HEALTH_BIN_DIR:-$(dirname "$0")}
kind=${1:-runtime}
case "$kind" in
runtime)
    model_dir=${RUTH_MODEL_DIR:-/opt/ruth-ai/model}
    socket_dir=${RUTH_SOCKET_DIR:-/run/ruth-ai}
    id=${RUTH_MODEL_ID:-}
    if [ -z "$id" ]; then
        # model_id: value, optionally quoted, as written in model.yaml.
        id=$(sed -n "s/^model_id:[[:space:]]*[\"']\{0,1\}\([A-Za-z0-9_.-]*\).*/\1/p" "$model_dir/model.yaml" | head -n 1)
    fi
    if [ -z "$id" ]; then
        echo "healthcheck: no model_id in $model_dir/model.yaml" >&2
        exit 1
    fi
    if [ -n "${RUTH_HEALTH_EXPECT_MODE:-}" ]; then
        exec "$bin/ruth-health" --socket "$socket_dir/$id.sock" --timeout-ms 3000 \
            --expect-mode "$RUTH_HEALTH_EXPECT_MODE"
    fi
    exec "$bin/ruth-health" --socket "$socket_dir/$id.sock" --timeout-ms 3000
    ;;
vasd)
    status=${RUTH_VASD_STATUS_FILE:-/run/vas/status.json}
    max_age=${RUTH_HEALTH_MAX_AGE_S:-10}
    if [ ! -f "$status" ]; then
        echo "healthcheck: no status file $status yet" >&2
        exit 1
    fi
    age=$(( $(date +%s) - $(stat -c %Y "$status") ))
    if [ "$age" -gt "$max_age" ]; then
        echo "healthcheck: $status not rewritten for ${age}s (limit ${max_age}s)" >&2
        exit 1
    fi
    exit 0
    ;;
core)
    exec "$bin/ruthctl" --socket "${RUTH_CORE_CONTROL_SOCKET:-/run/ruth-ai/core.sock}" list >/dev/null
    ;;
*)
    echo "usage: healthcheck.sh runtime|vasd|core" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Wait until the compose stack's gateway container is healthy.
#   docker/compose-wait.sh SECONDS COMPOSE_COMMAND...
# e.g. docker/compose-wait.sh 300 docker-compose -p conduit -f docker-compose.yml
# On timeout, or if the gateway turns unhealthy or exits, prints `ps` and the
# logs' tails and exits 1. Needs the docker CLI (docker compose, podman-docker).
set -euo pipefail

timeout=${1:?usage: compose-wait.sh SECONDS COMPOSE_COMMAND...}
shift
compose=("$@")
deadline=$((SECONDS + timeout))
status=missing
while ((SECONDS < deadline)); do
    id=$("${compose[@]}" ps -q gateway 2>/dev/null || true)
    if [[ -n $id ]]; then
        status=$(docker inspect --format \
            '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
            "$id" 2>/dev/null || echo missing)
    fi
    case $status in
        healthy) echo "compose-wait: gateway healthy after ${SECONDS}s"; exit 0 ;;
        unhealthy | exited | dead) break ;;
    esac
    sleep 1
done
echo "compose-wait: gateway is '$status' after ${SECONDS}s (limit ${timeout}s)" >&2
"${compose[@]}" ps >&2 || true
"${compose[@]}" logs --no-color --tail=40 >&2 || true
exit 1

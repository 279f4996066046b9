#!/usr/bin/env bash
# Wait until the compose stack's gateway and projectors are healthy.
#   docker/compose-wait.sh SECONDS COMPOSE_COMMAND...
# e.g. docker/compose-wait.sh 300 docker-compose -p conduit -f docker-compose.yml
# COMPOSE_WAIT_FOR names the services to wait for (default: the gateway, which waits
# for the three APIs, and the two projectors, which nothing else waits for).
# On timeout, or if one of them turns unhealthy or exits, prints `ps` and the logs'
# tails and exits 1. Needs the docker CLI (docker compose, podman-docker).
set -euo pipefail

timeout=${1:?usage: compose-wait.sh SECONDS COMPOSE_COMMAND...}
shift
compose=("$@")
read -r -a waiting <<<"${COMPOSE_WAIT_FOR:-gateway profiles-projector articles-projector}"
deadline=$((SECONDS + timeout))
failed=""
pending=()

status_of() {
    local id
    id=$("${compose[@]}" ps -q "$1" 2>/dev/null || true)
    [[ -n $id ]] || { echo missing; return; }
    docker inspect --format \
        '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' \
        "$id" 2>/dev/null || echo missing
}

while ((${#waiting[@]})) && ((SECONDS < deadline)); do
    pending=()
    for service in "${waiting[@]}"; do
        status=$(status_of "$service")
        case $status in
            healthy) echo "compose-wait: $service healthy after ${SECONDS}s" ;;
            unhealthy | exited | dead) failed="$service is '$status'"; break 2 ;;
            *) pending+=("$service:$status") ;;
        esac
    done
    ((${#pending[@]})) || exit 0
    waiting=("${pending[@]%%:*}")
    sleep 1
done
if [[ -z $failed ]] && ((${#waiting[@]} == 0)); then
    exit 0
fi
echo "compose-wait: ${failed:-not healthy after ${SECONDS}s (limit ${timeout}s): ${pending[*]}}" >&2
"${compose[@]}" ps >&2 || true
"${compose[@]}" logs --no-color --tail=40 >&2 || true
exit 1

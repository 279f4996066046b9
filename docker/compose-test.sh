#!/usr/bin/env bash
# `make compose-test`: build the service images, start the stack, wait for a healthy
# gateway and healthy projectors, run the official Postman suite and the e2e tests
# through the gateway, tear down.
# Exits non-zero if any step or any test fails (the trap always tears down).
# Inputs (set by mk/compose.mk):
#   COMPOSE            the compose command with its options (project, env file, -f)
#   CONDUIT_BASE_URL   the API root through the gateway, e.g. http://127.0.0.1:8080/flask/api
#   COMPOSE_WAIT_SECONDS, MAKE
# Logs of every container go to reports/compose/stack.log, JUnit to reports/e2e/compose.xml.
set -euo pipefail

: "${COMPOSE:?COMPOSE must hold the compose command}"
: "${CONDUIT_BASE_URL:?CONDUIT_BASE_URL must be set}"
read -r -a compose <<<"$COMPOSE"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
reports=reports/compose
mkdir -p "$reports"

step() { printf 'compose-test [%4ds]: %s\n' "$SECONDS" "$*"; }
teardown() {
    step "saving logs to $reports/stack.log and tearing down"
    "${compose[@]}" ps >"$reports/ps.txt" 2>&1 || true
    # When each container started and (one-shots) finished: where the start-up time goes.
    "${compose[@]}" ps -q 2>/dev/null | xargs -r docker inspect --format \
        '{{.Name}} started={{.State.StartedAt}} finished={{.State.FinishedAt}} health={{if .State.Health}}{{.State.Health.Status}}{{end}}' \
        >"$reports/timeline.txt" 2>&1 || true
    "${compose[@]}" logs --no-color --timestamps >"$reports/stack.log" 2>&1 || true
    "${compose[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true
}

# A leftover stack or database volume from an interrupted run would skew the test.
"${compose[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1 || true
trap teardown EXIT

step "building the service images"
# Only the three images (the migrate one-shots use them). compose v1 builds them one
# after the other, so the second and third reuse the first one's libs/common layers.
t=$SECONDS
"${compose[@]}" build auth profiles articles
step "images built in $((SECONDS - t))s"
echo "build_seconds=$((SECONDS - t))" >"$reports/timings.txt"

# The Postman suite and tests/e2e (schemathesis included) register many users from
# one address within minutes: this stack only gets registration limits that allow
# it, as tests/e2e/conftest.py gives its own stack (docs/security.md, "Rate limits").
export REGISTER_RATE="${REGISTER_RATE:-300r/m}" REGISTER_BURST="${REGISTER_BURST:-100}"

step "starting the stack"
t=$SECONDS
"${compose[@]}" up --detach
bash "$here/compose-wait.sh" "${COMPOSE_WAIT_SECONDS:-300}" "${compose[@]}"
step "gateway and projectors healthy $((SECONDS - t))s after up"
echo "up_to_healthy_gateway_seconds=$((SECONDS - t))" >>"$reports/timings.txt"

# The targets of mk/run.mk, pointed at this stack: the official Postman suite with the
# pinned newman, then tests/e2e against an external gateway (tests that need the
# processes' logs or restart them skip there). Both run, then any failure fails.
failed=()
step "Postman suite through $CONDUIT_BASE_URL"
${MAKE:-make} --no-print-directory test-postman CONDUIT_BASE_URL="$CONDUIT_BASE_URL" \
    || failed+=(postman)
step "e2e tests through $CONDUIT_BASE_URL"
mkdir -p reports/e2e
PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-} --junitxml=reports/e2e/compose.xml" \
    ${MAKE:-make} --no-print-directory test-e2e-external CONDUIT_BASE_URL="$CONDUIT_BASE_URL" \
    || failed+=(e2e)

if ((${#failed[@]})); then
    step "FAILED: ${failed[*]}"
    exit 1
fi
step "OK"

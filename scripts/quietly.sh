#!/usr/bin/env bash
# Usage: scripts/quietly.sh LOG COMMAND [ARG...]
# Run COMMAND with its output (stdout and stderr) going to LOG; print the log only
# when it fails. For the installs of a first `make run`/`make test` (pip's
# "Editable installation" warnings, npm, apt), so that the output that matters
# stays on screen.
set -uo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 LOG COMMAND [ARG...]" >&2
    exit 2
fi
log="$1"
shift
# Written elsewhere first: `npm ci` removes node_modules/, where its log goes.
tmp="$(mktemp "${TMPDIR:-/tmp}/quietly.XXXXXX")"
"$@" >"$tmp" 2>&1
status=$?
mkdir -p "$(dirname "$log")"
mv -f "$tmp" "$log"
if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    echo "failed with exit status $status: $* (this output is in $log)" >&2
fi
exit "$status"

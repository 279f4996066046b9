#!/usr/bin/env bash
# Install the Debian packages the project's tools need, when any is missing.
# Usage: scripts/ensure-system-packages.sh [package ...]  (default: the full set)
# Needs root; otherwise prints what to install and fails.
set -euo pipefail

# command -> package that provides it
declare -A PROVIDES=(
    [/usr/lib/postgresql]=postgresql
    [psql]=postgresql-client
    [nginx]=nginx-light
    [rsync]=rsync
    [wrk]=wrk
    [shellcheck]=shellcheck
    [docker-compose]=docker-compose
    [envsubst]=gettext-base
)

wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
    wanted=(postgresql postgresql-client nginx-light rsync shellcheck docker-compose gettext-base)
fi

missing=()
for tool in "${!PROVIDES[@]}"; do
    package="${PROVIDES[$tool]}"
    [[ " ${wanted[*]} " == *" $package "* ]] || continue
    if [[ "$tool" == /* ]]; then
        compgen -G "$tool/*/bin/initdb" >/dev/null || missing+=("$package")
    else
        command -v "$tool" >/dev/null || missing+=("$package")
    fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing system packages: ${missing[*]} (install them: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
log="${TMPDIR:-/tmp}/conduit-apt-install.log"
echo "installing: ${missing[*]} (log: $log)"
export DEBIAN_FRONTEND=noninteractive
# Quiet unless it fails: then the log is printed.
quietly="$(dirname "$0")/quietly.sh"
"$quietly" "$log" apt-get update
"$quietly" "$log" apt-get install -y --no-install-recommends "${missing[@]}"

#!/bin/sh
# The test harness bootstraps its database with db/bootstrap.sh, which runs psql.
# The python image has no client; a shell runner usually has one already.
set -eu
command -v psql >/dev/null 2>&1 && exit 0
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql-client >/dev/null

#!/usr/bin/env bash
# Create the conduit database, its three service roles and their schemas.
#
# Connection: the usual libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD) of a
# superuser. Inputs: CONDUIT_DB (default conduit) and AUTH_DB_PASSWORD,
# PROFILES_DB_PASSWORD, ARTICLES_DB_PASSWORD (required: no password has a default).
# The postgres image runs this from /docker-entrypoint-initdb.d, where POSTGRES_USER
# is the superuser and the server listens on its local socket.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sql="${CONDUIT_BOOTSTRAP_SQL:-$here/bootstrap.sql}"
# In the postgres image the script is copied alone; the SQL sits next to it there.
[ -f "$sql" ] || sql="$(dirname "$0")/bootstrap.sql"

: "${AUTH_DB_PASSWORD:?AUTH_DB_PASSWORD must be set}"
: "${PROFILES_DB_PASSWORD:?PROFILES_DB_PASSWORD must be set}"
: "${ARTICLES_DB_PASSWORD:?ARTICLES_DB_PASSWORD must be set}"

if [ -n "${POSTGRES_USER:-}" ] && [ -z "${PGUSER:-}" ]; then
    export PGUSER="$POSTGRES_USER"
fi

psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --dbname "${PGDATABASE:-postgres}" \
    --set dbname="${CONDUIT_DB:-conduit}" \
    --set auth_password="$AUTH_DB_PASSWORD" \
    --set profiles_password="$PROFILES_DB_PASSWORD" \
    --set articles_password="$ARTICLES_DB_PASSWORD" \
    --file "$sql"

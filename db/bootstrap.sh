#!/usr/bin/env bash
# Create the conduit database, each service's schema, its owner role (migrations)
# and its runtime role (the API and its projector): see bootstrap.sql.
#
# Connection: the usual libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD) of a
# superuser. Inputs: CONDUIT_DB (default conduit) and, per service, <SVC>_DB_PASSWORD
# (runtime role conduit_<svc>) and <SVC>_DB_OWNER_PASSWORD (owner role
# conduit_<svc>_owner), e.g. AUTH_DB_PASSWORD and AUTH_DB_OWNER_PASSWORD (all
# required: no password has a default).
# The postgres image runs this from /docker-entrypoint-initdb.d, where POSTGRES_USER
# is the superuser and the server listens on its local socket.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sql="${CONDUIT_BOOTSTRAP_SQL:-$here/bootstrap.sql}"
# In the postgres image the script is copied alone; the SQL sits next to it there.
[ -f "$sql" ] || sql="$(dirname "$0")/bootstrap.sql"

: "${AUTH_DB_PASSWORD:?AUTH_DB_PASSWORD must be set}"
: "${AUTH_DB_OWNER_PASSWORD:?AUTH_DB_OWNER_PASSWORD must be set}"
: "${PROFILES_DB_PASSWORD:?PROFILES_DB_PASSWORD must be set}"
: "${PROFILES_DB_OWNER_PASSWORD:?PROFILES_DB_OWNER_PASSWORD must be set}"
: "${ARTICLES_DB_PASSWORD:?ARTICLES_DB_PASSWORD must be set}"
: "${ARTICLES_DB_OWNER_PASSWORD:?ARTICLES_DB_OWNER_PASSWORD must be set}"

if [ -n "${POSTGRES_USER:-}" ] && [ -z "${PGUSER:-}" ]; then
    export PGUSER="$POSTGRES_USER"
fi

psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --dbname "${PGDATABASE:-postgres}" \
    --set dbname="${CONDUIT_DB:-conduit}" \
    --set auth_password="$AUTH_DB_PASSWORD" \
    --set auth_owner_password="$AUTH_DB_OWNER_PASSWORD" \
    --set profiles_password="$PROFILES_DB_PASSWORD" \
    --set profiles_owner_password="$PROFILES_DB_OWNER_PASSWORD" \
    --set articles_password="$ARTICLES_DB_PASSWORD" \
    --set articles_owner_password="$ARTICLES_DB_OWNER_PASSWORD" \
    --file "$sql"

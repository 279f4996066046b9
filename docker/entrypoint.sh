#!/bin/sh
# Entrypoint of every Conduit service image (docker/Dockerfile.in).
#
#   serve [gunicorn args...]     the default: gunicorn with the service's config on :${PORT:-8000}
#                                (public routes) and :${INTERNAL_PORT-9000} (the internal API:
#                                /internal/..., /metrics); INTERNAL_PORT= (empty) turns the
#                                second port off and serves every path on PORT
#   migrate [alembic args...]    `alembic upgrade head` with the service's alembic.ini, as the
#                                schema's owner role: MIGRATE_DATABASE_URL (DATABASE_URL, the
#                                runtime role, is not read); other alembic commands:
#                                `migrate downgrade base`, `migrate current`
#   project [args...]            the service's projector (`python -m conduit_<svc>.projector`):
#                                keeps its read models fed from the owners' event feeds; health
#                                on ${PROJECTOR_PORT:-8000}. Only consumers have one (profiles,
#                                articles); auth owns users and consumes nothing: exit 2
#   anything else                run as given (`sh`, `python -c ...`), for debugging
#
# CONDUIT_SERVICE (set from the build ARG SERVICE) names the service; its files live
# in /app/services/$CONDUIT_SERVICE, as in the repository.
set -eu

service="${CONDUIT_SERVICE:?CONDUIT_SERVICE must name the service (auth, profiles, articles)}"
home="/app/services/$service"

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
    serve)
        # Unset -> 9000; set but empty -> no internal port (gunicorn_defaults, settings).
        export INTERNAL_PORT="${INTERNAL_PORT-9000}"
        exec gunicorn --config "$home/gunicorn.conf.py" "$@" "conduit_$service.wsgi:app"
        ;;
    migrate)
        [ "$#" -gt 0 ] || set -- upgrade head
        exec alembic --config "$home/alembic.ini" "$@"
        ;;
    project)
        case "$service" in
            auth)
                echo "conduit-entrypoint: project: $service has no projector (it owns its" \
                     "data and consumes no other service's events); only profiles and" \
                     "articles run one" >&2
                exit 2
                ;;
        esac
        # A supervisor that restarts its worker child; SIGTERM stops both.
        exec python -m "conduit_$service.projector" "$@"
        ;;
    *)
        exec "$command" "$@"
        ;;
esac

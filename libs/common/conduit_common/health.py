"""Liveness and readiness endpoints."""
import logging
from collections.abc import Callable

import falcon
import sqlalchemy

log = logging.getLogger("conduit.health")


class HealthResource:
    """/healthz: the process answers. Touches nothing else."""

    uses_database = False

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ReadinessResource:
    """/readyz: the database answers, and `ready(connection)` holds if given (a
    consumer's read models have caught up with their owners)."""

    uses_database = False

    def __init__(self, engine: sqlalchemy.Engine,
                 ready: Callable[[sqlalchemy.Connection], bool] | None = None):
        self._engine = engine
        self._ready = ready

    def on_get(self, req, resp):
        try:
            with self._engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT 1"))
                caught_up = self._ready is None or self._ready(connection)
        except sqlalchemy.exc.SQLAlchemyError as ex:
            log.warning("database not reachable: %s", ex)
            resp.status = falcon.HTTP_503
            resp.media = {"errors": {"body": ["database is not reachable"]}}
            return
        if not caught_up:
            resp.status = falcon.HTTP_503
            resp.media = {"errors": {"body": ["read models are catching up with their owners"]}}
            return
        resp.media = {"status": "ready"}

"""Liveness and readiness endpoints."""
import logging

import falcon
import sqlalchemy

log = logging.getLogger("conduit.health")


class HealthResource:
    """/healthz: the process answers. Touches nothing else."""

    uses_database = False

    def on_get(self, req, resp):
        resp.media = {"status": "ok"}


class ReadinessResource:
    """/readyz: the database answers a trivial query."""

    uses_database = False

    def __init__(self, engine: sqlalchemy.Engine):
        self._engine = engine

    def on_get(self, req, resp):
        try:
            with self._engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT 1"))
        except sqlalchemy.exc.SQLAlchemyError as ex:
            log.warning("database not reachable: %s", ex)
            resp.status = falcon.HTTP_503
            resp.media = {"errors": {"body": ["database is not reachable"]}}
            return
        resp.media = {"status": "ready"}

"""The owner's internal API for its events: the feed (long-poll) and snapshot pages.

GET /internal/events?consumer=articles&after=<seq>&limit=500&wait=5
  -> {"events": [{"position", "type", "data"}...], "position": "<last or after>"}
  410 when `after` is older than what retention kept: re-snapshot.
  Asking from `after` also acknowledges it: the consumer has applied up to there.
"""
import logging
import os
import re
import select
import threading
import time
from collections.abc import Callable

import falcon
import sqlalchemy

from conduit_common.db import create_db_engine
from conduit_common.errors import ConduitError, Unprocessable
from conduit_common.events.model import Position, SnapshotPage
from conduit_common.events.outbox import Outbox, Retention

log = logging.getLogger("conduit.events")

_CONSUMER = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_LIMIT = 1000
MAX_WAIT_SECONDS = 10.0
# LISTEN is session state: behind a transaction pooler (PgBouncer, the gce overlay)
# the notifications would go to whichever server connection ran the LISTEN. When
# DIRECT_DATABASE_URL names the database without a pooler, the feed keeps a small
# engine of its own there (per worker: this many connections plus as many overflow).
FEED_POOL_SIZE = 1


def _direct_engine(engine: sqlalchemy.Engine, url: str | None, name: str) -> sqlalchemy.Engine:
    url = url if url is not None else os.environ.get("DIRECT_DATABASE_URL", "")
    if not url:
        return engine
    return create_db_engine(url, FEED_POOL_SIZE, application_name=f"{name}-feed")


class FeedGone(ConduitError):
    """The consumer's position was pruned: it must rebuild from a snapshot."""

    status = falcon.HTTP_410


def _query(req) -> tuple[str, Position, int, float]:
    consumer = req.get_param("consumer") or ""
    if not _CONSUMER.match(consumer):
        raise Unprocessable.on_field("consumer", "must be a lower-case name")
    try:
        after = Position.parse(req.get_param("after") or "0")
        limit = int(req.get_param("limit") or 500)
        wait = float(req.get_param("wait") or 0)
    except ValueError as ex:
        raise Unprocessable(str(ex)) from ex
    if not 1 <= limit <= MAX_LIMIT or not 0 <= wait <= MAX_WAIT_SECONDS:
        raise Unprocessable(f"limit must be 1..{MAX_LIMIT} and wait 0..{MAX_WAIT_SECONDS}")
    return consumer, after, limit, wait


class EventFeedResource:
    """Serves one owner's outbox; prunes it now and then on the way."""

    uses_database = False   # it manages its own connections (one LISTENs while waiting)

    def __init__(self, outbox: Outbox, engine: sqlalchemy.Engine,
                 retention: Retention = Retention(), prune_every_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, direct_url: str | None = None):
        self._outbox = outbox
        engine = _direct_engine(engine, direct_url, outbox.schema)
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._retention = retention
        self._prune_every = prune_every_seconds
        self._clock = clock
        self._next_prune = clock() + prune_every_seconds
        self._prune_lock = threading.Lock()

    def on_get(self, req, resp):
        consumer, after, limit, wait = _query(req)
        with self._engine.connect() as connection:
            horizon, events = self._outbox.poll(connection, consumer, after, limit)
            if after < horizon:
                raise FeedGone(f"events after {after} were pruned: rebuild from a snapshot")
            if not events and wait > 0:
                events = self._wait_for_events(connection, after, limit, wait)
            self._maybe_prune(connection)
        position = events[-1].position if events else after
        resp.media = {"events": [event.to_json() for event in events], "position": str(position)}

    def _wait_for_events(self, connection, after: Position, limit: int, wait: float) -> list:
        """LISTEN on the owner's channel until an event is readable or `wait` runs out.

        The NOTIFY is sent when the writing transaction commits, after its events were
        numbered (outbox.py): whoever it wakes can read them at once.
        """
        deadline = self._clock() + wait
        driver = connection.connection.driver_connection
        connection.exec_driver_sql(f"LISTEN {self._outbox.channel}")
        try:
            while True:
                # Read after LISTEN too: an event committed just before it sent no wake-up.
                events = self._outbox.read(connection, after, limit)
                remaining = deadline - self._clock()
                if events or remaining <= 0:
                    return events
                if select.select([driver], [], [], remaining)[0]:
                    driver.poll()
                    driver.notifies.clear()
        finally:
            connection.exec_driver_sql("UNLISTEN *")

    def _maybe_prune(self, connection) -> None:
        if self._clock() < self._next_prune or not self._prune_lock.acquire(blocking=False):
            return
        try:
            self._next_prune = self._clock() + self._prune_every
            pruned = self._outbox.prune(connection, self._retention)
            if pruned:
                log.info("pruned %d events from %s", pruned, self._outbox.channel)
        finally:
            self._prune_lock.release()


def snapshot_page(connection, outbox: Outbox,
                  read_rows: Callable[[object], tuple[list[dict], str | None]]) -> SnapshotPage:
    """A page of current state, stamped with the feed head read *before* the rows.

    The rows are then at least as new as that position; the consumer replays the
    feed from the first page's position, and version checks make the overlap harmless.
    """
    position = outbox.head(connection)
    rows, next_cursor = read_rows(connection)
    return SnapshotPage(rows=rows, position=position, next=next_cursor)


def snapshot_json(page: SnapshotPage) -> dict:
    return {"rows": page.rows, "position": str(page.position), "next": page.next}


def snapshot_query(req, max_limit: int = 5000) -> tuple[str | None, int]:
    """?after=<cursor>&limit=N of a snapshot endpoint (the cursor is the owner's)."""
    try:
        limit = int(req.get_param("limit") or 1000)
    except ValueError as ex:
        raise Unprocessable.on_field("limit", "must be an integer") from ex
    if not 1 <= limit <= max_limit:
        raise Unprocessable.on_field("limit", f"must be 1..{max_limit}")
    return req.get_param("after"), limit

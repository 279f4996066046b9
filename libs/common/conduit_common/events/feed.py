"""The owner's internal API for its events: the feed (long-poll) and snapshot pages.

GET /internal/events?consumer=articles&after=<seq>&limit=500&wait=5
  -> {"events": [{"position", "type", "data"}...], "position": "<last or after>"}
  410 when `after` is older than what retention kept: re-snapshot.
  Asking from `after` also acknowledges it: the consumer has applied up to there.

A caller may only read (and so acknowledge) as itself: `consumer` must be the name its
service token speaks for (service_auth.py), else 403.
"""
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable

import falcon
import sqlalchemy

from conduit_common.db import create_db_engine
from conduit_common.errors import ConduitError, Forbidden, Unprocessable
from conduit_common.events.model import Position, SnapshotPage
from conduit_common.events.outbox import Outbox, Retention

log = logging.getLogger("conduit.events")

_CONSUMER = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_LIMIT = 1000
MAX_WAIT_SECONDS = 10.0
# A waiting read reads again at least this often, wake-up or not (a safety net).
RECHECK_SECONDS = 1.0
# The listener looks up this often when nothing is announced: is anyone still waiting
# (else it stops after LISTENER_IDLE_SECONDS), is its connection alive (every
# LISTENER_PING_SECONDS).
LISTENER_TICK_SECONDS = 1.0
LISTENER_IDLE_SECONDS = 10.0
LISTENER_PING_SECONDS = 30.0
# LISTEN is session state: behind a transaction pooler (PgBouncer, the gce overlay)
# the notifications would go to whichever server connection ran the LISTEN. When
# DIRECT_DATABASE_URL names the database without a pooler, the feed keeps a small
# engine of its own there (per worker: this many connections plus as many overflow).
# The listener holds one (OutboxListener); reads borrow the other briefly, and
# waiting reads hold none.
FEED_POOL_SIZE = 2


def _direct_engine(engine: sqlalchemy.Engine, url: str | None, name: str) -> sqlalchemy.Engine:
    url = url if url is not None else os.environ.get("DIRECT_DATABASE_URL", "")
    if not url:
        return engine
    return create_db_engine(url, FEED_POOL_SIZE, application_name=f"{name}-feed")


class FeedGone(ConduitError):
    """The consumer's position was pruned: it must rebuild from a snapshot."""

    status = falcon.HTTP_410


def _consumer(req, consumer: str) -> str:
    if not _CONSUMER.match(consumer):
        raise Unprocessable.on_field("consumer", "must be a lower-case name")
    caller = getattr(req.context, "caller", None)
    if caller is not None and caller != consumer:
        raise Forbidden(f"{caller} may not read or acknowledge as {consumer}")
    return consumer


def _query(req) -> tuple[str, Position, int, float]:
    consumer = _consumer(req, req.get_param("consumer") or "")
    try:
        after = Position.parse(req.get_param("after") or "0")
        limit = int(req.get_param("limit") or 500)
        wait = float(req.get_param("wait") or 0)
    except ValueError as ex:
        raise Unprocessable(str(ex)) from ex
    if not 1 <= limit <= MAX_LIMIT or not 0 <= wait <= MAX_WAIT_SECONDS:
        raise Unprocessable(f"limit must be 1..{MAX_LIMIT} and wait 0..{MAX_WAIT_SECONDS}")
    return consumer, after, limit, wait


class OutboxListener:
    """One LISTEN per pool on an outbox's channel, shared by every waiting read
    (`shared_listener`; a worker has one pool).

    A waiting read used to LISTEN on a connection of its own, held it while it waited,
    and paid LISTEN, a read and UNLISTEN per request on top of its poll. Here one thread
    holds the only listening connection and counts wake-ups (`generation`); a read
    takes the count before it reads and, finding nothing, waits for the count to move.
    The NOTIFY is sent when a writing transaction commits, after its events were
    numbered (outbox.py), so whoever it wakes can read them at once. The count also
    moves whenever the listener (re)connects, since a NOTIFY sent while nobody
    listened is lost: the waiting reads then read again.

    The thread starts with the first wait, in the worker process (never at import,
    before gunicorn forks), reconnects with backoff when its connection breaks, and
    ends when no read has waited for a while.
    """

    def __init__(self, engine: sqlalchemy.Engine, channel: str,
                 idle_seconds: float = LISTENER_IDLE_SECONDS):
        self._engine = engine
        self._channel = channel
        self._idle_seconds = idle_seconds
        self._generation = 0
        self._moved = threading.Condition()
        self._running = False
        self._wanted = time.monotonic()    # when a read last wanted a wake-up

    def generation(self) -> int:
        """The current count (starts the listener if it is not running)."""
        with self._moved:
            self._wanted = time.monotonic()
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, daemon=True,
                                 name=f"listen {self._channel}").start()
            return self._generation

    def wait_after(self, generation: int, timeout: float) -> int:
        """Block until the count passes `generation` or `timeout` runs out; the count."""
        with self._moved:
            self._wanted = time.monotonic()
            self._moved.wait_for(lambda: self._generation != generation, timeout)
            self._wanted = time.monotonic()
            return self._generation

    def _wake(self) -> None:
        with self._moved:
            self._generation += 1
            self._moved.notify_all()

    def _stop_if_idle(self) -> bool:
        """With no read waiting for a while, end the thread and free its connection (a
        following projector waits again within milliseconds, so only a quiet feed or a
        test's throwaway app gets here); the next read starts it again."""
        with self._moved:
            if time.monotonic() - self._wanted < self._idle_seconds:
                return False
            self._running = False
            return True

    def _run(self) -> None:
        backoff = 0.5
        while True:
            started = time.monotonic()
            try:
                if self._listen():
                    return
            except Exception as ex:  # noqa: BLE001 - the database may come back
                if time.monotonic() - started > 60:
                    backoff = 0.5       # it listened for a while: a new failure
                log.warning("listening on %s failed: %s; again in %.1f s",
                            self._channel, ex, backoff)
            if self._stop_if_idle():
                return
            time.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    def _listen(self) -> bool:
        """LISTEN until idle (True) or the connection fails (raises)."""
        with self._engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql(f"LISTEN {self._channel}")
            driver = connection.connection.driver_connection
            self._wake()    # listening now: what committed before was never announced
            quiet = 0.0
            while True:
                # Back after the first notification (with any that came in the same
                # packet) or after a quiet tick: one wake-up serves them all. Read the
                # generator to its end: until then it holds the connection's lock, and
                # the ping below would wait on it.
                notifications = driver.notifies(timeout=LISTENER_TICK_SECONDS, stop_after=1)
                announced = sum(1 for _ in notifications)
                if announced:
                    self._wake()
                    continue
                if self._stop_if_idle():
                    connection.exec_driver_sql("UNLISTEN *")
                    return True
                quiet += LISTENER_TICK_SECONDS
                if quiet >= LISTENER_PING_SECONDS:
                    quiet = 0.0
                    connection.exec_driver_sql("SELECT 1")   # a dead connection shows


_listeners: "weakref.WeakKeyDictionary[object, dict[str, OutboxListener]]" = \
    weakref.WeakKeyDictionary()
_listeners_lock = threading.Lock()


def shared_listener(engine: sqlalchemy.Engine, channel: str) -> OutboxListener:
    """The one listener of this engine's pool on `channel`. A worker builds one app, but
    a test session builds many over one engine: each would otherwise keep a listening
    connection of the shared pool for LISTENER_IDLE_SECONDS after its last wait."""
    with _listeners_lock:
        by_channel = _listeners.setdefault(engine.pool, {})
        if channel not in by_channel:
            by_channel[channel] = OutboxListener(engine, channel)
        return by_channel[channel]


class EventFeedResource:
    """Serves one owner's outbox; prunes it now and then on the way."""

    uses_database = False   # it manages its own connections (OutboxListener holds one)

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
        self._listener = shared_listener(engine, outbox.channel)

    def on_get(self, req, resp):
        consumer, after, limit, wait = _query(req)
        # Taken before reading: a commit after the read bumps it, so it is not missed.
        generation = self._listener.generation() if wait > 0 else 0
        with self._engine.connect() as connection:
            horizon, events = self._outbox.poll(connection, consumer, after, limit)
            if after < horizon:
                raise FeedGone(f"events after {after} were pruned: rebuild from a snapshot")
            self._maybe_prune(connection)
        if not events and wait > 0:
            events = self._wait_for_events(generation, after, limit, wait)
        position = events[-1].position if events else after
        resp.media = {"events": [event.to_json() for event in events], "position": str(position)}

    def _wait_for_events(self, generation: int, after: Position, limit: int,
                         wait: float) -> list:
        """Wait for the listener's next wake-up after `generation`, then read; until an
        event is readable or `wait` runs out. The request holds no connection while it
        waits."""
        deadline = self._clock() + wait
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                return []
            generation = self._listener.wait_after(generation, min(remaining, RECHECK_SECONDS))
            with self._engine.connect() as connection:
                events = self._outbox.read(connection, after, limit)
            if events:
                return events

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

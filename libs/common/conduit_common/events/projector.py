"""The consumer's side: apply an owner's events to read-only tables, exactly once.

A `Projection` is what a consuming service declares for one source: the statements
that land a batch of events in its tables (idempotent), how snapshot rows land, and
how to empty the tables for a rebuild. The `Projector` drives it: it reads after its
position, and applies the batch and stores the new position as one SQL statement
(the batch's statements ride on the position update as data-modifying CTEs), so a
crash replays a batch and never skips or doubles one. A batch costs one round trip
to the database instead of four (BEGIN, apply, position, COMMIT). An empty projection
(first deploy, a new consumer, a `rebuild`) or a position the owner has pruned is
filled from a snapshot, then the feed is replayed from the snapshot's position.

One projector per (service, source) is active at a time: it holds a Postgres
advisory lock on a connection of its own; another instance waits as a standby.

With tracing on (tracing.py), each applied batch is one span, `project <projection>`
(kind CONSUMER), with a Link to the span that recorded each of its events (the owner's
request): a trace of a write leads to the batch that made it visible elsewhere.
"""
import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import (BigInteger, Boolean, Column, DateTime, Executable, MetaData, Table,
                        Text, bindparam, column, func, select, text)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from conduit_common.db import SessionManager
from conduit_common.events.model import Event, Position
from conduit_common.events.transport import EventSource, SnapshotRequired
from conduit_common import tracing

log = logging.getLogger("conduit.projector")

# Exported on the projector's /metrics (runner.py).
APPLIED = Counter("conduit_projector_events_applied_total", "Events applied to a projection",
                  ["projection"])
LAG = Histogram("conduit_projector_lag_seconds", "From the owner's write to applied here",
                ["projection"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
POSITION = Gauge("conduit_projector_position",
                 "Owner's feed position (commit sequence number) of the last applied event",
                 ["projection"])
CAUGHT_UP = Gauge("conduit_projector_caught_up", "1 once the projection reached its owner",
                  ["projection"])
REBUILDS = Counter("conduit_projector_rebuilds_total", "Rebuilds from a snapshot",
                   ["projection"])
FAILURES = Counter("conduit_projector_failures_total",
                   "Loop errors (owner or database unreachable ...), retried with backoff",
                   ["projection"])


# Combinations of a projection's statements kept per projector (the users projection has
# one, the follows projection three).
MAX_BATCH_SHAPES = 16


def projection_positions_table(metadata: MetaData) -> Table:
    """Declare the position table on a consumer's MetaData (its schema)."""
    return Table(
        "projection_positions", metadata,
        Column("source", Text, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        # True once the projection has reached the owner's head: /readyz waits for it.
        Column("caught_up", Boolean, nullable=False, server_default=sqlalchemy.false()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


# One statement of a batch: the statement, built once with bind parameters, and this
# batch's values for them.
BatchPart = tuple[Executable, dict]


@dataclass(frozen=True)
class Projection:
    """How one source's events land in a consumer's tables.

    `apply_statements(events)` returns (statement, values) pairs: plain INSERT, UPDATE
    or DELETE statements with bind parameters, built once (constants of the projection,
    so SQLAlchemy compiles each combination once and never rebuilds them), and the
    batch's values. Parameter names must differ across a projection's statements, and
    from the position's (`position_*`). The statements run together in one SQL
    statement, so they share one snapshot and do not see each other's changes: each row
    may be touched by at most one of them, once (collapse a batch per key first, as the
    users and follows projections do).
    """

    name: str
    apply_statements: Callable[[list[Event]], list[BatchPart]]
    load_snapshot: Callable[[Session, list[dict]], None]
    reset: Callable[[Session], None]


@dataclass(frozen=True)
class Tracked:
    position: Position
    caught_up: bool


class PositionStore:
    """Reads and writes the consumer's `projection_positions` rows."""

    def __init__(self, table: Table):
        self._table = table
        # The position upsert, built once with bind parameters (`values`): a projector
        # sends it with every batch (Projector._apply).
        statement = pg_insert(table).values(
            source=bindparam("position_source", type_=Text),
            seq=bindparam("position_seq", type_=BigInteger),
            caught_up=bindparam("position_caught_up", type_=Boolean))
        self.upsert = statement.on_conflict_do_update(
            index_elements=[table.c.source],
            set_={"seq": statement.excluded.seq,
                  "caught_up": statement.excluded.caught_up, "updated_at": func.now()})

    def get(self, session, name: str) -> Tracked | None:
        row = session.execute(select(self._table.c.seq, self._table.c.caught_up)
                              .where(self._table.c.source == name)).first()
        return Tracked(Position(row.seq), row.caught_up) if row else None

    @staticmethod
    def values(name: str, position: Position, caught_up: bool) -> dict:
        """The values of `upsert` for one projection's position."""
        return {"position_source": name, "position_seq": position.seq,
                "position_caught_up": caught_up}

    def save(self, session, name: str, position: Position, caught_up: bool) -> None:
        session.execute(self.upsert, self.values(name, position, caught_up))

    def forget(self, session, name: str) -> None:
        session.execute(self._table.delete().where(self._table.c.source == name))

    def all_caught_up(self, connection, names: Sequence[str]) -> bool:
        count = connection.execute(
            select(func.count()).select_from(self._table)
            .where(self._table.c.source.in_(list(names)), self._table.c.caught_up)).scalar_one()
        return count == len(set(names))


def batch_rows(parameter: str, *columns: Column):
    """A batch's rows as the derived table `batch`, read from the JSON array bound to
    `parameter` (a list of dicts with a value for each of `columns`).

    A multi-row VALUES has a shape per number of rows, and SQLAlchemy does not cache its
    compiled form at all: compiling every batch's statement anew was about 15 % of a
    projector's CPU under the bench's write mix (py-spy). This is one shape for any
    batch.
    """
    return func.jsonb_to_recordset(bindparam(parameter, type_=JSONB)).table_valued(
        *(column(c.name, c.type) for c in columns)).render_derived(name="batch", with_types=True)


def lock_key(service: str, source: str) -> int:
    """A stable advisory-lock key per (consumer service, source)."""
    return zlib.crc32(f"conduit-projector:{service}:{source}".encode()) & 0x7FFFFFFF


class LagWindow:
    """The last few thousand lags (owner's write -> applied here), in milliseconds,
    each with the wall-clock time it was recorded (so a caller can ask about a window:
    the bench asks about its write mix only)."""

    def __init__(self, projection: str = "", size: int = 5000):
        self._lags: deque[tuple[float, float]] = deque(maxlen=size)
        self._histogram = LAG.labels(projection)

    def record(self, events: list[Event], now: datetime) -> None:
        stamp = now.timestamp()
        for event in events:
            if event.time is not None:
                seconds = (now - event.time).total_seconds()
                self._lags.append((stamp, seconds * 1000))
                self._histogram.observe(seconds)

    def _since(self, since: float | None) -> list[float]:
        return [lag for stamp, lag in self._lags if since is None or stamp >= since]

    def summary(self, since: float | None = None) -> dict:
        """p50, p99, max and the number of samples (recorded at or after `since`)."""
        ordered = sorted(self._since(since))
        if not ordered:
            return {"p50": None, "p99": None, "max": None, "samples": 0}

        def at(fraction):
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
        return {"p50": at(0.5), "p99": at(0.99), "max": ordered[-1], "samples": len(ordered)}

    def __len__(self) -> int:
        return len(self._lags)


def batch_span(projection: str, events: list[Event], position: Position):
    """The span of one applied batch, linked to the spans that recorded its events
    (one link per distinct trace context; the SDK keeps at most 128 by default,
    OTEL_SPAN_LINK_COUNT_LIMIT). A no-op span while tracing is off."""
    links, seen = [], set()
    if tracing.active():
        for event in events:
            if event.trace and event.trace not in seen:
                seen.add(event.trace)
                link = tracing.link_to(event.trace)
                if link is not None:
                    links.append(link)
    return tracing.tracer().start_as_current_span(
        f"project {projection}", kind=SpanKind.CONSUMER, links=links,
        attributes={"conduit.projection": projection, "conduit.events": len(events),
                    "conduit.position": str(position)})


class Projector:
    """Keeps one projection up to date with one source."""

    def __init__(self, service: str, projection: Projection, source: EventSource,
                 engine: sqlalchemy.Engine, positions: PositionStore, *, batch_size: int = 500,
                 snapshot_page: int = 1000, wait_seconds: float = 5.0):
        self.projection = projection
        self.source = source
        self.lags = LagWindow(projection.name)
        self.heartbeat = time.monotonic()
        self.state = "starting"
        self._engine = engine
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = SessionManager(engine)
        self._positions = positions
        self._lock_key = lock_key(service, projection.name)
        self._batch = batch_size
        self._snapshot_page = snapshot_page
        self._wait = wait_seconds
        self._tracked: Tracked | None = None   # None: read it from the database
        # The batch statement per combination of the projection's statements: built
        # and compiled once, then only executed with each batch's values.
        self._batch_statements: dict[tuple, Executable] = {}

    # One step at a time (tests drive these directly)

    def step(self) -> int:
        """Apply the next batch (or rebuild when needed); the number of events applied."""
        self.heartbeat = time.monotonic()
        if self._tracked is None:
            # Read once, then kept here: while it holds the lock, only this loop moves it.
            with self._sessions.session() as session:
                self._tracked = self._positions.get(session, self.projection.name)
        tracked = self._tracked
        if tracked is None:
            self.rebuild()
            return 0
        # Until it has seen the owner's head once, this process does not long-poll: a
        # restarted projector is ready as soon as it has applied what it missed.
        wait = self._wait if self.state == "following" else 0
        try:
            batch = self.source.read(tracked.position, self._batch, wait)
        except SnapshotRequired as ex:
            log.warning("%s: %s; rebuilding from a snapshot", self.projection.name, ex)
            self.rebuild()
            return 0
        at_head = len(batch.events) < self._batch   # the owner had nothing more just now
        caught_up = tracked.caught_up or at_head
        if batch.events or caught_up != tracked.caught_up:
            with batch_span(self.projection.name, batch.events, batch.position):
                self._apply(batch.events, batch.position, caught_up)
            self._tracked = Tracked(batch.position, caught_up)
            self.lags.record(batch.events, datetime.now(timezone.utc))
            APPLIED.labels(self.projection.name).inc(len(batch.events))
            POSITION.labels(self.projection.name).set(batch.position.seq)
        CAUGHT_UP.labels(self.projection.name).set(1 if caught_up else 0)
        # "following" means: this process has reached the owner's head since it started
        # leading. The stored `caught_up` is sticky (the API's /readyz reads it); the
        # projector's own /readyz needs both (runner.py).
        self.state = "following" if at_head or self.state == "following" else "catching up"
        return len(batch.events)

    def _apply(self, events: list[Event], position: Position, caught_up: bool) -> None:
        """The batch's statements and the new position as one statement, in autocommit:
        Postgres runs a statement atomically, so both land or neither does."""
        parts = self.projection.apply_statements(events) if events else []
        values = self._positions.values(self.projection.name, position, caught_up)
        for _, part_values in parts:
            values.update(part_values)
        with self._autocommit.connect() as connection:
            connection.execute(self._batch_statement(tuple(part for part, _ in parts)), values)

    def _batch_statement(self, parts: tuple) -> Executable:
        """The position upsert carrying `parts` as data-modifying CTEs (built once)."""
        statement = self._batch_statements.get(parts)
        if statement is None:
            if len(self._batch_statements) >= MAX_BATCH_SHAPES:
                self._batch_statements.clear()   # a projection that builds statements per batch
            statement = self._positions.upsert
            if parts:
                statement = statement.add_cte(
                    *(part.cte(f"apply_{i}") for i, part in enumerate(parts)))
            self._batch_statements[parts] = statement
        return statement

    def rebuild(self) -> None:
        """Empty the projection, load the owner's snapshot, then follow from its position."""
        self.state = "rebuilding"
        self._tracked = None
        name = self.projection.name
        REBUILDS.labels(name).inc()
        CAUGHT_UP.labels(name).set(0)
        log.info("%s: loading a snapshot", name)
        with self._sessions.session() as session:
            self._positions.forget(session, name)
            self.projection.reset(session)
        cursor, start, rows = None, None, 0
        while True:
            page = self.source.snapshot(cursor, self._snapshot_page)
            start = start or page.position
            with self._sessions.session() as session:
                self.projection.load_snapshot(session, page.rows)
            rows += len(page.rows)
            self.heartbeat = time.monotonic()
            if page.next is None:
                break
            cursor = page.next
        with self._sessions.session() as session:
            self._positions.save(session, name, start, caught_up=False)
        self._tracked = Tracked(start, caught_up=False)
        log.info("%s: snapshot of %d rows loaded at %s; replaying from there", name, rows, start)

    # The loop

    def run(self, stop: threading.Event, standby_seconds: float = 5.0) -> None:
        """Follow the source until `stop` is set; errors back off and retry."""
        backoff = 0.5
        while not stop.is_set():
            try:
                with self._engine.connect() as lock_connection:
                    if not self._lead(lock_connection):
                        self.state = "standby"
                        self.heartbeat = time.monotonic()
                        stop.wait(standby_seconds)
                        continue
                    try:
                        self._tracked = None   # a new leader reads the stored position
                        self.state = "starting"   # and has not seen the head yet
                        log.info("%s: projecting from %s", self.projection.name,
                                 self.source.name)
                        while not stop.is_set():
                            self.step()
                            backoff = 0.5
                    finally:
                        self._resign(lock_connection)
            except Exception as ex:  # noqa: BLE001 - a projector outlives its dependencies
                self.state = "retrying"
                FAILURES.labels(self.projection.name).inc()
                log.warning("%s: %s; retrying in %.1f s", self.projection.name, ex, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _lead(self, connection) -> bool:
        """Take the advisory lock; it lives as long as `connection`."""
        acquired = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                      {"key": self._lock_key}).scalar_one()
        connection.commit()
        return bool(acquired)

    def _resign(self, connection) -> None:
        """Release the lock before the connection goes back to the pool (it would keep it)."""
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._lock_key})
            connection.commit()
        except sqlalchemy.exc.SQLAlchemyError:
            connection.invalidate()   # a broken connection is dropped, and the lock with it

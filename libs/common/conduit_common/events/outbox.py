"""The owner's side: the outbox table, recording events, reading them in order.

Why not order by the event id: ids come from a sequence when the row is inserted,
but transactions commit in another order. A reader that has seen id 2 (committed
first) would never come back for id 1 (committed later).

So an event gets its feed position, `seq`, when its transaction commits: a deferred
trigger (ddl.create_commit_order_v2) takes a per-outbox advisory lock and numbers the
transaction's events from a sequence, inside COMMIT. The lock is held until the commit
has become visible, so the next committer numbers its events only after that: the
visible numbers always form a prefix (with gaps only where a commit failed after
numbering), and a reader can simply take `seq > position` in order. Two changes to
the same row are numbered in their commit order too, so "last event wins" is right.

The earlier rule (store `pg_current_xact_id()` and read only below the oldest running
transaction) was correct too, but that horizon is database-wide: any slow transaction
in any schema held back every projection. Under load that was most of the lag.
The price here is that an owner's event-writing commits run one at a time, for the
length of a commit (about 0.2 ms of WAL flush on our disks); their other work stays
parallel, and transactions that write no event never take the lock.

Trace context: with tracing on, `record` stores the recording span's W3C traceparent
inside the event's JSON under the reserved key `_trace` (no extra column, no
migration; an event without it is simply not linked), and `read` takes it out again
into `Event.trace`, so projections never see it. The feed sends it as the event's
`trace` field and the projector's batch span links to it (projector.py).
"""
import logging
import time
import zlib
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy
from sqlalchemy import (DDL, BigInteger, Column, DateTime, Identity, Index, MetaData, Table,
                        Text, event, func, insert, text)
from sqlalchemy.dialects.postgresql import JSONB, insert as pg_insert
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from conduit_common.events.model import Event, Position
from conduit_common.tracing import traceparent

log = logging.getLogger("conduit.events")


class XID8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id type (xid8, PostgreSQL 13+): the first outbox
    migration (ddl.create_outbox_v1) still names it."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid8"


# So that reflection (Alembic's autogenerate) knows the type instead of warning.
ischema_names.setdefault("xid8", XID8)


# A waiting writer looks again after 2, 4, 8 ... ms, at most this far apart: a
# consumer usually acknowledges within a few ms, and under load a fixed 5 ms poll from
# every waiting writer was a query storm competing with the projectors it waits for.
MAX_POLL_SECONDS = 0.025


# In a statement run in autocommit, this makes its commit asynchronous: visible at once,
# without waiting for its WAL to reach the disk (is_local: it ends with the transaction,
# so the pooled connection keeps its setting). Only for a write that a database crash
# may lose because it is redone anyway: a consumer's acknowledgement, which its next
# poll sends again. Under the bench's write mix the ack waited its turn to flush behind
# every writer's commit: the poll took 9-19 ms (p50) with it, 6-11 without
# (bench/analysis.md).
RELAXED_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"


def commit_order_lock_key(schema: str) -> int:
    """The advisory lock that orders an outbox's committing transactions (any writer
    that numbers events itself, like the bench's bulk loader, must hold it)."""
    return zlib.crc32(f"conduit-outbox-commit-order:{schema}".encode()) & 0x7FFFFFFF


def commit_order_sql(schema: str) -> list[str]:
    """The sequence, function and deferred trigger that number events at commit.

    Migration ddl.create_commit_order_v2 runs these, and so does `create_all` of
    outbox_tables (tests). Frozen like ddl.py: a change is a new function and migration.
    """
    return [
        f"CREATE SEQUENCE IF NOT EXISTS {schema}.outbox_seq OWNED BY {schema}.outbox.seq",
        # Runs inside COMMIT, once per event, in insertion order. The lock is released
        # only after the commit is visible, so numbers become visible in order. Rows
        # that arrive numbered (a bulk load holding the same lock) are left alone.
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_number() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({commit_order_lock_key(schema)});
            UPDATE {schema}.outbox
               SET seq = nextval('{schema}.outbox_seq'), committed_at = clock_timestamp()
             WHERE id = NEW.id AND seq IS NULL;
            RETURN NULL;
        END $$""",
        f"CREATE CONSTRAINT TRIGGER outbox_number AFTER INSERT ON {schema}.outbox "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.seq IS NULL) "
        f"EXECUTE FUNCTION {schema}.outbox_number()",
    ]


def outbox_tables(metadata: MetaData) -> "OutboxTables":
    """Declare the outbox tables on an owner's MetaData (its schema)."""
    events = Table(
        "outbox", metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        # Set at commit (see the module doc); NULL only inside the writing transaction.
        Column("seq", BigInteger, nullable=True),
        # When the numbering ran, inside COMMIT: the projectors' lag is measured from it
        # (NULL for events numbered by a bulk load: their created_at stands in).
        Column("committed_at", DateTime(timezone=True), nullable=True),
        Column("type", Text, nullable=False),
        Column("data", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False,
               server_default=text("clock_timestamp()")),
        Index("ix_outbox_seq", "seq", unique=True),
    )
    # What the migrations add beyond the table (ddl.py), so that `create_all` (tests)
    # builds the same thing: the wake-up NOTIFY and the numbering at commit.
    schema = metadata.schema
    notify = (f"CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger "
              f"LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{schema}_outbox', ''); "
              "RETURN NULL; END $$",
              f"CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox "
              f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()")
    for statement in (*notify, *commit_order_sql(schema)):
        event.listen(events, "after_create", DDL(statement.replace("%", "%%")))
    # and `drop_all` leaves nothing behind that a later migration would trip over
    for function in ("outbox_notify", "outbox_number"):
        event.listen(events, "after_drop", DDL(f"DROP FUNCTION IF EXISTS {schema}.{function}()"))
    # The last position each consumer asked from: what it has applied. Read-your-writes
    # waits on it, and pruning keeps everything a known consumer has not passed.
    consumers = Table(
        "outbox_consumers", metadata,
        Column("name", Text, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("acknowledged_at", DateTime(timezone=True), nullable=False,
               server_default=func.now()),
    )
    # The newest position pruned away: a consumer behind it must re-snapshot.
    horizon = Table(
        "outbox_horizon", metadata,
        Column("name", Text, primary_key=True),
        Column("seq", BigInteger, nullable=False),
    )
    return OutboxTables(events, consumers, horizon)


@dataclass(frozen=True)
class OutboxTables:
    events: Table
    consumers: Table
    horizon: Table


# The key of `data` that holds the trace context in the table (see the module doc).
TRACE_KEY = "_trace"


@dataclass(frozen=True)
class Retention:
    """How long events stay after every known consumer has passed them."""

    keep: timedelta = timedelta(hours=24)
    # A consumer silent for longer is forgotten: it re-snapshots when it comes back.
    forget_consumer_after: timedelta = timedelta(days=7)
    batch: int = 5000


def _event(row) -> Event:
    data = dict(row.data)
    context = data.pop(TRACE_KEY, None)
    return Event(Position(row.seq), row.type, data, row.time,
                 context if isinstance(context, str) else None)


class Outbox:
    """Record, read and prune one owner's events (schema-qualified SQL)."""

    def __init__(self, tables: OutboxTables, live_consumer_seconds: float = 15.0):
        self.tables = tables
        self.schema = tables.events.schema
        self.channel = f"{self.schema}_outbox"
        self._live_seconds = live_consumer_seconds
        qualified = f"{self.schema}.outbox"
        self._read = text(
            f"SELECT id, seq, type, data, coalesce(committed_at, created_at) AS time "
            f"FROM {qualified} "
            "WHERE seq > :seq ORDER BY seq LIMIT :limit")
        self._head = text(f"SELECT max(seq) FROM {qualified}")
        # A consumer's poll in one round trip: acknowledge its position (a data-modifying
        # CTE runs whether or not the query reads it; never backwards, see poll),
        # the pruning horizon, the events.
        # The LEFT JOIN keeps one row (horizon, NULLs) when there are no events. The row
        # it joins to turns off the wait for the WAL flush for this statement only (see
        # RELAXED_COMMIT).
        self._poll = text(
            "WITH acknowledged AS ("
            f"  INSERT INTO {self.schema}.outbox_consumers (name, seq) VALUES (:consumer, :seq)"
            "   ON CONFLICT (name) DO UPDATE SET acknowledged_at = now(),"
            f"  seq = greatest({self.schema}.outbox_consumers.seq, excluded.seq)) "
            f"SELECT coalesce((SELECT seq FROM {self.schema}.outbox_horizon"
            "                  WHERE name = 'pruned'), 0) AS horizon, e.* "
            f"FROM ({RELAXED_COMMIT}) AS relaxed LEFT JOIN LATERAL ("
            "  SELECT id, seq, type, data, coalesce(committed_at, created_at) AS time "
            f"  FROM {qualified} WHERE seq > :seq ORDER BY seq LIMIT :limit) AS e ON true "
            "ORDER BY e.seq")
        # How many live consumers have not acknowledged the newest of these events
        # (numbered at commit, so looked up by id after it).
        self._behind = text(
            f"SELECT count(*) FROM {self.schema}.outbox_consumers "
            "WHERE acknowledged_at > now() - make_interval(secs => :live) "
            f"AND seq < (SELECT max(seq) FROM {qualified} WHERE id = ANY(:ids))")

    # Writing (inside the owner's unit of work)

    def record(self, session: Session, event_type: str, data: dict) -> int:
        """Add an event to the session's transaction; it is visible once that commits.

        Returns the event's id; its feed position is only given at commit. The id is
        also kept in `session.info["events"]`, so that the request can wait for
        consumers after the commit (read-your-writes).
        """
        if TRACE_KEY in data:
            raise ValueError(f"{TRACE_KEY!r} is reserved for the trace context")
        context = traceparent()
        if context is not None:
            data = {**data, TRACE_KEY: context}
        event_id = session.execute(
            insert(self.tables.events).values(type=event_type, data=data)
            .returning(self.tables.events.c.id)).scalar_one()
        session.info.setdefault("events", []).append(event_id)
        return event_id

    # Reading (the feed)

    def read(self, connection, after: Position, limit: int) -> list[Event]:
        rows = connection.execute(self._read, {"seq": after.seq, "limit": limit})
        return [_event(row) for row in rows]

    def poll(self, connection, consumer: str, after: Position,
             limit: int) -> tuple[Position, list[Event]]:
        """What the feed does per request, as one statement: `consumer` acknowledges
        `after` (it has applied up to there); returns the pruning horizon and up to
        `limit` events after `after`. Run it in autocommit (the acknowledgement commits
        with it).

        An acknowledgement never moves back: a read from an old position (a probe, a
        projector instance that lost its lead and has one read still out) must not make
        writers wait for events that were applied long ago. (A consumer that really goes
        back, restored from an old backup, is handed 410 once its events are pruned and
        rebuilds from a snapshot.)"""
        rows = connection.execute(self._poll, {"consumer": consumer, "seq": after.seq,
                                               "limit": limit}).all()
        return Position(rows[0].horizon), [_event(row) for row in rows if row.seq is not None]

    def head(self, connection) -> Position:
        """The newest readable position (or the pruning horizon, if newer)."""
        newest = connection.execute(self._head).scalar_one()
        return max(Position(newest or 0), self.horizon(connection))

    def horizon(self, connection) -> Position:
        seq = connection.execute(
            sqlalchemy.select(self.tables.horizon.c.seq)
            .where(self.tables.horizon.c.name == "pruned")).scalar_one_or_none()
        return Position(seq or 0)

    # Read-your-writes

    def consumers_behind(self, connection, event_ids: list[int]) -> int:
        """How many live consumers have not yet applied all of these committed events."""
        return connection.execute(self._behind, {
            "live": self._live_seconds, "ids": list(event_ids),
        }).scalar_one()

    def wait_until_consumed(self, engine: sqlalchemy.Engine, event_ids: list[int],
                            timeout: float, poll: float = 0.002) -> bool:
        """Block (bounded) until every live consumer has applied these events.

        Consumers that have not polled for `live_consumer_seconds` are not waited
        for: a stopped projector never holds up the owner's writes for longer.
        """
        deadline = time.monotonic() + timeout
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while self.consumers_behind(connection, event_ids):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(poll, remaining))
                poll = min(poll * 2, MAX_POLL_SECONDS)
        return True

    # Retention

    def prune(self, connection, retention: Retention) -> int:
        """Delete events every known consumer has passed and that are old enough."""
        floor = connection.execute(text(
            f"SELECT min(seq) FROM {self.schema}.outbox_consumers "
            "WHERE acknowledged_at > now() - :forget"),
            {"forget": retention.forget_consumer_after}).scalar_one()
        if floor is None:
            return 0
        deleted = connection.execute(text(
            f"DELETE FROM {self.schema}.outbox WHERE id IN ("
            f"  SELECT id FROM {self.schema}.outbox"
            "   WHERE seq <= :seq AND created_at < now() - :keep ORDER BY seq LIMIT :batch) "
            "RETURNING seq"),
            {"seq": floor, "keep": retention.keep, "batch": retention.batch}).scalars().all()
        if deleted:
            self._raise_horizon(connection, Position(max(deleted)))
        return len(deleted)

    def _raise_horizon(self, connection, position: Position) -> None:
        table = self.tables.horizon
        statement = pg_insert(table).values(name="pruned", seq=position.seq)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.name], set_={"seq": statement.excluded.seq},
            where=table.c.seq < statement.excluded.seq))


def read_your_writes(outbox: Outbox, engine: sqlalchemy.Engine, timeout: float):
    """An `after_commit` hook (db.SessionManager): wait, bounded, for the consumers.

    After a request that published events commits, its response waits until every
    live consumer has applied them, so the client's next request to any service
    sees its own write. A consumer that lags more than `timeout` only costs that
    long; one that has stopped polling is not waited for at all.
    """
    def wait_for_consumers(info: dict) -> None:
        event_ids = info.pop("events", None)
        if event_ids and timeout > 0:
            if not outbox.wait_until_consumed(engine, event_ids, timeout):
                log.warning("consumers of %s did not apply events %s within %.2f s",
                            outbox.channel, event_ids, timeout)
    return wait_for_consumers


class OutboxCollector:
    """Scrape-time gauges of an owner's outbox (a prometheus-client collector).

    conduit_outbox_events: events kept; per consumer, conduit_outbox_consumer_lag_seconds
    (age of the oldest event it has not acknowledged, 0 when it is up to date) and
    conduit_outbox_consumer_last_seen_seconds (since it last asked).
    """

    def __init__(self, outbox: Outbox, engine: sqlalchemy.Engine):
        self._outbox = outbox
        self._engine = engine
        schema = outbox.schema
        self._consumers = text(
            "SELECT c.name, extract(epoch FROM now() - c.acknowledged_at) AS last_seen, "
            "  coalesce((SELECT extract(epoch FROM now() - o.created_at) "
            f"  FROM {schema}.outbox o "
            "   WHERE o.seq > c.seq ORDER BY o.seq LIMIT 1), 0) AS lag "
            f"FROM {schema}.outbox_consumers c")
        self._count = text(f"SELECT count(*) FROM {schema}.outbox")

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        kept = GaugeMetricFamily("conduit_outbox_events", "Events in the outbox",
                                 labels=["owner"])
        lag = GaugeMetricFamily("conduit_outbox_consumer_lag_seconds",
                                "Age of the oldest event a consumer has not acknowledged",
                                labels=["owner", "consumer"])
        seen = GaugeMetricFamily("conduit_outbox_consumer_last_seen_seconds",
                                 "Seconds since the consumer last asked for events",
                                 labels=["owner", "consumer"])
        with self._engine.connect() as connection:
            kept.add_metric([self._outbox.schema], connection.execute(self._count).scalar_one())
            for row in connection.execute(self._consumers):
                lag.add_metric([self._outbox.schema, row.name], float(row.lag))
                seen.add_metric([self._outbox.schema, row.name], float(row.last_seen))
        yield from (kept, lag, seen)


def outbox_metrics(outbox: Outbox, engine: sqlalchemy.Engine):
    """The `scrape_metrics` hook of an owner's app: the outbox gauges as text."""
    from prometheus_client import CollectorRegistry, generate_latest
    registry = CollectorRegistry()
    registry.register(OutboxCollector(outbox, engine))
    return lambda: generate_latest(registry).decode()

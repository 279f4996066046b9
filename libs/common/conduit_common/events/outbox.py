"""The owner's side: the outbox table, recording events, reading them in order.

Why not order by the event id alone: ids come from a sequence when the row is
inserted, but transactions commit in another order. A reader that has seen id 2
(committed first) would never come back for id 1 (committed later). So each event
stores the id of its transaction (`pg_current_xact_id()`), and a reader only takes
events whose transaction is below the oldest one still running
(`pg_snapshot_xmin(pg_current_snapshot())`): no event can appear there any more.
Events are read in (xid, id) order; that order is also the order of conflicting
changes, because each of our write transactions takes its xid with its first row
change (under that row's lock). Consumers still apply users by version.

Trace context: with tracing on, `record` stores the recording span's W3C traceparent
inside the event's JSON under the reserved key `_trace` (no extra column, no
migration; an event without it is simply not linked), and `read` takes it out again
into `Event.trace`, so projections never see it. The feed sends it as the event's
`trace` field and the projector's batch span links to it (projector.py).
"""
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy
from sqlalchemy import (BigInteger, Column, DateTime, Identity, Index, MetaData, Table, Text,
                        func, insert, text)
from sqlalchemy.dialects.postgresql import JSONB, insert as pg_insert
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from conduit_common.events.model import START, Event, Position
from conduit_common.tracing import traceparent

log = logging.getLogger("conduit.events")


class XID8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id type (xid8, PostgreSQL 13+)."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid8"


# So that reflection (Alembic's autogenerate) knows the type instead of warning.
ischema_names.setdefault("xid8", XID8)


def outbox_tables(metadata: MetaData) -> "OutboxTables":
    """Declare the outbox tables on an owner's MetaData (its schema)."""
    events = Table(
        "outbox", metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("xid", XID8, nullable=False, server_default=text("pg_current_xact_id()")),
        Column("type", Text, nullable=False),
        Column("data", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False,
               server_default=text("clock_timestamp()")),
        Index("ix_outbox_xid_id", "xid", "id"),
    )
    # The last position each consumer asked from: what it has applied. Read-your-writes
    # waits on it, and pruning keeps everything a known consumer has not passed.
    consumers = Table(
        "outbox_consumers", metadata,
        Column("name", Text, primary_key=True),
        Column("xid", BigInteger, nullable=False),
        Column("id", BigInteger, nullable=False),
        Column("acknowledged_at", DateTime(timezone=True), nullable=False,
               server_default=func.now()),
    )
    # The newest position pruned away: a consumer behind it must re-snapshot.
    horizon = Table(
        "outbox_horizon", metadata,
        Column("name", Text, primary_key=True),
        Column("xid", BigInteger, nullable=False),
        Column("id", BigInteger, nullable=False),
    )
    return OutboxTables(events, consumers, horizon)


@dataclass(frozen=True)
class OutboxTables:
    events: Table
    consumers: Table
    horizon: Table


# The key of `data` that holds the trace context in the table (see the module doc).
TRACE_KEY = "_trace"

_VISIBLE = "xid < pg_snapshot_xmin(pg_current_snapshot())"


@dataclass(frozen=True)
class Retention:
    """How long events stay after every known consumer has passed them."""

    keep: timedelta = timedelta(hours=24)
    # A consumer silent for longer is forgotten: it re-snapshots when it comes back.
    forget_consumer_after: timedelta = timedelta(days=7)
    batch: int = 5000


class Outbox:
    """Record, read and prune one owner's events (schema-qualified SQL)."""

    def __init__(self, tables: OutboxTables, live_consumer_seconds: float = 15.0):
        self.tables = tables
        self.schema = tables.events.schema
        self.channel = f"{self.schema}_outbox"
        self._live_seconds = live_consumer_seconds
        qualified = f"{self.schema}.outbox"
        self._read = text(
            f"SELECT id, xid::text::bigint AS xid, type, data, created_at FROM {qualified} "
            f"WHERE (xid, id) > (CAST(CAST(:xid AS text) AS xid8), :id) AND {_VISIBLE} "
            "ORDER BY xid, id LIMIT :limit")
        # Committed events after a position that the xmin rule still hides (an older
        # transaction is running): the feed looks again soon instead of sleeping.
        self._hidden = text(
            f"SELECT EXISTS (SELECT 1 FROM {qualified} "
            "WHERE (xid, id) > (CAST(CAST(:xid AS text) AS xid8), :id))")
        self._head = text(
            f"SELECT xid::text::bigint AS xid, id FROM {qualified} WHERE {_VISIBLE} "
            "ORDER BY xid DESC, id DESC LIMIT 1")
        self._behind = text(
            f"SELECT count(*) FROM {self.schema}.outbox_consumers "
            "WHERE acknowledged_at > now() - make_interval(secs => :live) "
            "AND (xid, id) < (:xid, :id)")

    # Writing (inside the owner's unit of work)

    def record(self, session: Session, event_type: str, data: dict) -> Position:
        """Add an event to the session's transaction; it is visible once that commits.

        The position is also kept in `session.info["events"]`, so that the request can
        wait for consumers after the commit (read-your-writes).
        """
        if TRACE_KEY in data:
            raise ValueError(f"{TRACE_KEY!r} is reserved for the trace context")
        context = traceparent()
        if context is not None:
            data = {**data, TRACE_KEY: context}
        row = session.execute(
            insert(self.tables.events).values(type=event_type, data=data)
            .returning(self.tables.events.c.id,
                       sqlalchemy.cast(sqlalchemy.cast(self.tables.events.c.xid, Text),
                                       BigInteger))).one()
        position = Position(int(row[1]), int(row[0]))
        session.info.setdefault("events", []).append(position)
        return position

    # Reading (the feed)

    def read(self, connection, after: Position, limit: int) -> list[Event]:
        rows = connection.execute(self._read, {"xid": after.xid, "id": after.id, "limit": limit})
        events = []
        for row in rows:
            data = dict(row.data)
            context = data.pop(TRACE_KEY, None)
            events.append(Event(Position(row.xid, row.id), row.type, data, row.created_at,
                                context if isinstance(context, str) else None))
        return events

    def has_hidden(self, connection, after: Position) -> bool:
        """Whether events after `after` have committed but are not readable yet."""
        return bool(connection.execute(self._hidden, {"xid": after.xid, "id": after.id})
                    .scalar_one())

    def head(self, connection) -> Position:
        """The newest readable position (or the pruning horizon, if newer)."""
        row = connection.execute(self._head).first()
        newest = Position(row.xid, row.id) if row else START
        return max(newest, self.horizon(connection))

    def horizon(self, connection) -> Position:
        row = connection.execute(
            sqlalchemy.select(self.tables.horizon.c.xid, self.tables.horizon.c.id)
            .where(self.tables.horizon.c.name == "pruned")).first()
        return Position(row.xid, row.id) if row else START

    def acknowledge(self, connection, consumer: str, position: Position) -> None:
        table = self.tables.consumers
        statement = pg_insert(table).values(name=consumer, xid=position.xid, id=position.id)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"xid": statement.excluded.xid, "id": statement.excluded.id,
                  "acknowledged_at": func.now()}))

    # Read-your-writes

    def consumers_behind(self, connection, position: Position) -> int:
        """How many live consumers have not yet applied the event at `position`."""
        return connection.execute(self._behind, {
            "live": self._live_seconds, "xid": position.xid, "id": position.id,
        }).scalar_one()

    def wait_until_consumed(self, engine: sqlalchemy.Engine, position: Position,
                            timeout: float, poll: float = 0.005) -> bool:
        """Block (bounded) until every live consumer has applied `position`.

        Consumers that have not polled for `live_consumer_seconds` are not waited
        for: a stopped projector never holds up the owner's writes for longer.
        """
        deadline = time.monotonic() + timeout
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            while self.consumers_behind(connection, position):
                if time.monotonic() >= deadline:
                    return False
                time.sleep(poll)
        return True

    # Retention

    def prune(self, connection, retention: Retention) -> int:
        """Delete events every known consumer has passed and that are old enough."""
        floor = connection.execute(text(
            f"SELECT xid, id FROM {self.schema}.outbox_consumers "
            "WHERE acknowledged_at > now() - :forget ORDER BY xid, id LIMIT 1"),
            {"forget": retention.forget_consumer_after}).first()
        if floor is None:
            return 0
        deleted = connection.execute(text(
            f"DELETE FROM {self.schema}.outbox WHERE id IN ("
            f"  SELECT id FROM {self.schema}.outbox"
            "   WHERE (xid, id) <= (CAST(CAST(:xid AS text) AS xid8), :id)"
            "     AND created_at < now() - :keep ORDER BY xid, id LIMIT :batch) "
            "RETURNING xid::text::bigint AS xid, id"),
            {"xid": floor.xid, "id": floor.id, "keep": retention.keep,
             "batch": retention.batch}).all()
        if deleted:
            newest = max(Position(row.xid, row.id) for row in deleted)
            self._raise_horizon(connection, newest)
        return len(deleted)

    def _raise_horizon(self, connection, position: Position) -> None:
        table = self.tables.horizon
        statement = pg_insert(table).values(name="pruned", xid=position.xid, id=position.id)
        connection.execute(statement.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={"xid": statement.excluded.xid, "id": statement.excluded.id},
            where=sqlalchemy.tuple_(table.c.xid, table.c.id)
            < sqlalchemy.tuple_(statement.excluded.xid, statement.excluded.id)))


def read_your_writes(outbox: Outbox, engine: sqlalchemy.Engine, timeout: float):
    """An `after_commit` hook (db.SessionManager): wait, bounded, for the consumers.

    After a request that published events commits, its response waits until every
    live consumer has applied them, so the client's next request to any service
    sees its own write. A consumer that lags more than `timeout` only costs that
    long; one that has stopped polling is not waited for at all.
    """
    def wait_for_consumers(info: dict) -> None:
        positions = info.pop("events", None)
        if positions and timeout > 0:
            if not outbox.wait_until_consumed(engine, max(positions), timeout):
                log.warning("consumers of %s did not apply %s within %.2f s",
                            outbox.channel, max(positions), timeout)
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
            "   WHERE (o.xid, o.id) > (CAST(CAST(c.xid AS text) AS xid8), c.id) "
            "   ORDER BY o.xid, o.id LIMIT 1), 0) AS lag "
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

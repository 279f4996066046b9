"""The outbox, its feed order and the projector loop, on a real Postgres.

An owner and a consumer share the `auth` role's schema here (tables of their own
names): what is tested is the ordering and exactly-once mechanics, not the grants.
"""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import (BigInteger, Column, MetaData, Table, Text, create_engine, func, select,
                        text)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from conduit_common.db import SessionManager, create_db_engine
from conduit_common.events.model import START, Batch, SnapshotPage
from conduit_common.events.outbox import Outbox, Retention, outbox_tables
from conduit_common.events.projector import (PositionStore, Projection, Projector,
                                             projection_positions_table)
from conduit_common.events.transport import SnapshotRequired


@pytest.fixture(scope="module")
def tables():
    metadata = MetaData(schema="auth")
    outbox = outbox_tables(metadata)
    notes = Table("event_test_notes", metadata,
                  Column("name", Text, primary_key=True), Column("times", BigInteger))
    positions = projection_positions_table(metadata)
    return metadata, outbox, notes, positions


@pytest.fixture
def engine(conduit_database, tables):
    """The runtime role's engine over tables its owner role made (as migrations do)."""
    metadata = tables[0]
    owner = create_engine(conduit_database.owner_url_for("auth"), poolclass=NullPool)
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=5)
    metadata.drop_all(owner)
    metadata.create_all(owner)
    yield engine
    engine.dispose()
    metadata.drop_all(owner)
    owner.dispose()


@pytest.fixture
def outbox(tables):
    return Outbox(tables[1])


def read(engine, outbox, after=START, limit=100):
    with engine.connect() as connection:
        return outbox.read(connection, after, limit)


def test_an_event_committed_late_with_a_lower_id_is_read_after_the_other(engine, outbox):
    early = Session(engine)      # takes the lower id, commits last
    outbox.record(early, "Noted", {"name": "first"})
    with Session(engine) as late:
        outbox.record(late, "Noted", {"name": "second"})
        late.commit()

    # A bare `id > last_id` reader would take "second" now and never see "first".
    seen_first = read(engine, outbox)
    early.commit()
    early.close()
    after_that = read(engine, outbox, after=seen_first[-1].position)
    everything = read(engine, outbox)

    assert [e.data["name"] for e in seen_first] == ["second"]
    assert [e.data["name"] for e in after_that] == ["first"]
    # Feed order is commit order.
    assert [e.data["name"] for e in everything] == ["second", "first"]
    assert everything[0].position < everything[1].position


def test_an_unrelated_running_transaction_does_not_hide_a_committed_event(engine, outbox,
                                                                          tables):
    """Why events are numbered at commit: with xid positions, any older transaction
    still running anywhere in the database held every later event back."""
    with engine.connect() as older:
        older.execute(pg_insert(tables[2]).values(name="older", times=1))   # takes an xid
        publish(engine, outbox, "visible")                                   # commits after it

        events = read(engine, outbox)
        older.rollback()

    assert [e.data["name"] for e in events] == ["visible"]


def test_events_of_one_transaction_are_numbered_in_the_order_they_were_written(engine, outbox):
    publish(engine, outbox, "a", "b", "c")
    publish(engine, outbox, "d")

    events = read(engine, outbox)

    assert [e.data["name"] for e in events] == ["a", "b", "c", "d"]
    assert [e.position.seq for e in events] == sorted({e.position.seq for e in events})


def test_a_rolled_back_event_leaves_no_trace_and_no_gap_for_readers(engine, outbox):
    with Session(engine) as session:
        outbox.record(session, "Noted", {"name": "never"})
        session.rollback()
    publish(engine, outbox, "kept")

    assert [e.data["name"] for e in read(engine, outbox)] == ["kept"]


class OutboxSource:
    """The EventSource interface straight over the outbox (no HTTP), for these tests."""

    name = "test-owner"

    def __init__(self, engine, outbox, snapshot_rows=()):
        self._engine, self._outbox = engine, outbox
        self.snapshot_rows = list(snapshot_rows)
        self.gone = False

    def read(self, after, limit, wait):
        if self.gone:
            raise SnapshotRequired("pruned")
        events = read(self._engine, self._outbox, after, limit)
        return Batch(events, events[-1].position if events else after)

    def snapshot(self, cursor, limit):
        with self._engine.connect() as connection:
            head = self._outbox.head(connection)
        self.gone = False
        return SnapshotPage(rows=self.snapshot_rows, position=head, next=None)


def counting_projection(notes: Table, fail: list | None = None) -> Projection:
    """Counts how often each note was applied. While `fail` holds an item, a batch also
    carries a statement that fails in the database after the notes' own (a NULL key)."""
    def upserts(names):
        statements = []
        for name in names:
            statement = pg_insert(notes).values(name=name, times=1)
            statements.append(statement.on_conflict_do_update(
                index_elements=[notes.c.name], set_={"times": notes.c.times + 1}))
        return statements

    def apply_statements(events):
        statements = upserts([e.data["name"] for e in events])
        if fail:
            fail.pop()
            statements.append(notes.insert().values(name=None, times=1))
        return [(statement, {}) for statement in statements]   # values inline

    def load_snapshot(session, rows):
        for statement in upserts([r["name"] for r in rows]):
            session.execute(statement)

    return Projection(name="test-notes", apply_statements=apply_statements,
                      load_snapshot=load_snapshot,
                      reset=lambda session: session.execute(notes.delete()))


def applied(engine, notes) -> dict:
    with engine.connect() as connection:
        return dict(connection.execute(select(notes.c.name, notes.c.times)).all())


def publish(engine, outbox, *names):
    with SessionManager(engine).session() as session:
        for name in names:
            outbox.record(session, "Noted", {"name": name})


@pytest.fixture
def make_projector(engine, outbox, tables):
    def make(projection, source=None, batch_size=500):
        source = source or OutboxSource(engine, outbox)
        return Projector("tests", projection, source, engine, PositionStore(tables[3]),
                         batch_size=batch_size, wait_seconds=0)
    return make


def test_the_projector_applies_each_event_once_and_catches_up(engine, outbox, tables,
                                                              make_projector):
    notes = tables[2]
    projector = make_projector(counting_projection(notes), batch_size=2)
    projector.step()                                  # empty projection: snapshot first
    publish(engine, outbox, "a", "b", "c")

    while projector.step():
        pass
    projector.step()

    assert applied(engine, notes) == {"a": 1, "b": 1, "c": 1}
    with engine.connect() as connection:
        assert PositionStore(tables[3]).all_caught_up(connection, ["test-notes"])


def test_a_batch_that_fails_midway_leaves_nothing_and_is_applied_once_on_retry(
        engine, outbox, tables, make_projector):
    """The batch's statements and the position are one statement: a failure after the
    notes were written takes them back with it, and the position does not move."""
    notes = tables[2]
    fail = [True]
    projector = make_projector(counting_projection(notes, fail=fail))
    projector.step()
    publish(engine, outbox, "a", "b")

    with pytest.raises(IntegrityError):
        projector.step()
    assert applied(engine, notes) == {}
    projector.step()                                  # the restarted loop reads again

    assert applied(engine, notes) == {"a": 1, "b": 1}


def test_a_pruned_position_rebuilds_from_the_snapshot(engine, outbox, tables, make_projector):
    notes = tables[2]
    source = OutboxSource(engine, outbox, snapshot_rows=[{"name": "from-snapshot"}])
    projector = make_projector(counting_projection(notes), source)
    projector.step()
    publish(engine, outbox, "a")
    projector.step()

    source.gone = True
    projector.step()                                  # 410 -> reset + snapshot

    assert applied(engine, notes) == {"from-snapshot": 1}


def test_pruning_keeps_what_a_consumer_has_not_passed_and_raises_the_horizon(engine, outbox):
    publish(engine, outbox, "a", "b", "c")
    events = read(engine, outbox)
    with engine.connect() as connection:
        outbox.poll(connection, "consumer", events[1].position, limit=1)
        pruned = outbox.prune(connection, Retention(keep=timedelta(0)))
        horizon = outbox.horizon(connection)
        connection.commit()

    assert pruned == 2
    assert horizon == events[1].position
    assert [e.data["name"] for e in read(engine, outbox)] == ["c"]


def test_a_poll_acknowledges_and_reads_in_one_statement(engine, outbox):
    publish(engine, outbox, "a", "b", "c")
    first = read(engine, outbox)[0].position
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        horizon, events = outbox.poll(connection, "consumer", first, limit=1)
        acknowledged = connection.execute(select(outbox.tables.consumers.c.seq).where(
            outbox.tables.consumers.c.name == "consumer")).scalar_one()
        outbox.prune(connection, Retention(keep=timedelta(0)))
        last = read(engine, outbox)[-1].position
        pruned_horizon, nothing = outbox.poll(connection, "consumer", last, limit=10)

    assert [e.data["name"] for e in events] == ["b"]
    assert (horizon, acknowledged) == (START, first.seq)
    assert (pruned_horizon, nothing) == (first, [])


def test_a_poll_commits_without_waiting_for_the_flush_and_leaves_the_session_alone(
        engine, outbox):
    """The acknowledgement is redone by the next poll, so its commit need not wait for
    the WAL flush; the setting is the statement's transaction's, not the connection's."""
    with engine.connect() as connection:   # in a transaction, the setting shows until its end
        outbox.poll(connection, "consumer", START, limit=1)
        inside = connection.execute(text("SHOW synchronous_commit")).scalar_one()
        connection.rollback()
        after_the_transaction = connection.execute(text("SHOW synchronous_commit")).scalar_one()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        outbox.poll(connection, "consumer", START, limit=1)
        after_the_statement = connection.execute(text("SHOW synchronous_commit")).scalar_one()

    assert (inside, after_the_transaction, after_the_statement) == ("off", "on", "on")


def test_a_writer_waits_until_a_live_consumer_has_applied_its_event(engine, outbox):
    with SessionManager(engine).session() as session:
        event_id = outbox.record(session, "Noted", {"name": "a"})
    position = read(engine, outbox)[-1].position
    with engine.connect() as connection:
        outbox.poll(connection, "consumer", START, limit=1)
        connection.commit()

    def consume_later():
        with engine.connect() as connection:
            outbox.poll(connection, "consumer", position, limit=1)
            connection.commit()

    timer = threading.Timer(0.05, consume_later)
    timer.start()
    waited = outbox.wait_until_consumed(engine, [event_id], timeout=2.0)
    timer.join()
    publish(engine, outbox, "b")
    newer = read(engine, outbox, after=position)[0]
    with engine.connect() as connection:
        newer_id = connection.execute(select(outbox.tables.events.c.id).where(
            outbox.tables.events.c.seq == newer.position.seq)).scalar_one()

    assert waited
    assert not outbox.wait_until_consumed(engine, [newer_id], timeout=0.05)


def test_only_one_projector_leads_a_source_at_a_time(engine, outbox, tables, make_projector):
    first = make_projector(counting_projection(tables[2]))
    second = make_projector(counting_projection(tables[2]))
    with engine.connect() as one, engine.connect() as two:
        assert first._lead(one)
        assert not second._lead(two)
        first._resign(one)
        assert second._lead(two)
        second._resign(two)


def test_waiting_reads_wake_together_when_an_event_commits(engine, outbox):
    """One listener per process wakes every waiting read; they hold no connection while
    they wait (three reads wait here on an engine whose pool has room for one)."""
    from conduit_common.events.feed import RECHECK_SECONDS, EventFeedResource
    small = create_db_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    feed = EventFeedResource(outbox, small)
    results = []

    def wait_for_one():
        generation = feed._listener.generation()
        started = time.monotonic()
        events = feed._wait_for_events(generation, START, 10, wait=5.0)
        results.append(([e.data["name"] for e in events], time.monotonic() - started))

    readers = [threading.Thread(target=wait_for_one) for _ in range(3)]
    for reader in readers:
        reader.start()
    time.sleep(0.3)
    publish(engine, outbox, "later")
    for reader in readers:
        reader.join(timeout=10)
    small.dispose()

    assert [names for names, _ in results] == [["later"]] * 3
    # Woken by the NOTIFY, not by the periodic re-read.
    assert all(0.25 < elapsed < RECHECK_SECONDS for _, elapsed in results), results


def test_the_listener_ends_when_no_read_waits_and_starts_again_with_the_next(engine, outbox):
    from conduit_common.events.feed import OutboxListener
    listener = OutboxListener(engine, outbox.channel, idle_seconds=0.2)
    first = listener.wait_after(listener.generation(), timeout=5)   # it is listening

    deadline = time.monotonic() + 10
    while listener._running and time.monotonic() < deadline:
        time.sleep(0.1)
    stopped = not listener._running
    listening = listener.wait_after(listener.generation(), timeout=5)   # LISTENing again
    timer = threading.Timer(0.2, lambda: publish(engine, outbox, "after a pause"))
    timer.start()
    started = time.monotonic()
    woken = listener.wait_after(listening, timeout=5)
    elapsed = time.monotonic() - started
    timer.join()

    assert first >= 1 and stopped
    assert woken > listening and elapsed < 2, elapsed


def test_a_restarted_projector_follows_only_after_applying_what_it_missed(
        engine, outbox, tables, make_projector):
    """The stored caught_up flag stays true across a restart; the projector's own
    readiness (state "following") must wait until it has read the owner's head."""
    notes = tables[2]
    first = make_projector(counting_projection(notes), batch_size=1)
    first.step()                                      # snapshot
    first.step()                                      # nothing yet: at the head
    assert first.state == "following"
    publish(engine, outbox, "missed-1", "missed-2")   # while no projector runs

    restarted = make_projector(counting_projection(notes), batch_size=1)
    states = []
    while True:
        applied_now = restarted.step()
        states.append(restarted.state)
        if not applied_now:
            break

    assert states == ["catching up", "catching up", "following"]
    assert applied(engine, notes) == {"missed-1": 1, "missed-2": 1}


def test_an_events_time_is_its_commit_not_its_insert(engine, outbox):
    """The projectors' lag is measured from it: the writer's own transaction is not lag."""
    with SessionManager(engine).session() as session:
        outbox.record(session, "Noted", {"name": "slow writer"})
        inserted = session.execute(select(func.clock_timestamp())).scalar_one()
        time.sleep(0.2)

    [event] = read(engine, outbox)

    assert (event.time - inserted).total_seconds() >= 0.2


def test_feeds_built_over_one_engine_share_one_listening_connection(engine, outbox):
    """A worker builds one app; a test session builds many over one engine. Each feed
    used to keep a listening connection of the shared pool for a while after its last
    wait, and a CI job's pool and the server's connections ran out."""
    from conduit_common.events.feed import EventFeedResource
    feeds = [EventFeedResource(outbox, engine) for _ in range(4)]
    for feed in feeds:
        feed._listener.wait_after(feed._listener.generation(), timeout=0.2)

    assert len({id(feed._listener) for feed in feeds}) == 1
    assert engine.pool.checkedout() == 1     # the one LISTEN

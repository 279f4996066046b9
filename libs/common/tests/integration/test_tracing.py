"""Traces (issue 11): one trace from the caller's traceparent through the service to
its SQL, trace ids in the log lines, and a write -> event -> projection chain linked
across the outbox. In-process, with an in-memory span exporter, on a real Postgres.

The gateway's part (nginx passes traceparent on unchanged) is tests/e2e/test_tracing.py.
"""
import json

import falcon
import falcon.testing
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import BigInteger, Column, MetaData, Table, Text, create_engine, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.pool import NullPool

from conduit_common import tracing
from conduit_common.app import create_service_app
from conduit_common.db import SessionManager, create_db_engine
from conduit_common.events.model import START, Batch, Event, SnapshotPage
from conduit_common.events.outbox import TRACE_KEY, Outbox, outbox_tables
from conduit_common.events.projector import (PositionStore, Projection, Projector,
                                             projection_positions_table)
from conduit_common.settings import CommonSettings
from conduit_common.testing.keys import USER_TOKEN_KEYS

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    assert tracing.configure_tracing("tests", exporter=exporter)
    yield exporter
    tracing.uninstrument()
    exporter.shutdown()


@pytest.fixture
def tables():
    metadata = MetaData(schema="auth")
    outbox = outbox_tables(metadata)
    notes = Table("trace_test_notes", metadata,
                  Column("name", Text, primary_key=True), Column("times", BigInteger))
    positions = projection_positions_table(metadata)
    return metadata, outbox, notes, positions


@pytest.fixture
def engine(conduit_database, tables):
    """The runtime role's engine over tables its owner role made (as migrations do)."""
    owner = create_engine(conduit_database.owner_url_for("auth"), poolclass=NullPool)
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=2)
    tables[0].drop_all(owner)
    tables[0].create_all(owner)
    yield engine
    engine.dispose()
    tables[0].drop_all(owner)
    owner.dispose()


class Counting:
    def on_get(self, req, resp):
        count = req.context.session.execute(text("SELECT count(*) FROM auth.outbox")).scalar()
        resp.media = {"count": count}


def test_a_read_continues_the_callers_trace_down_to_its_sql(spans, engine, capsys):
    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS, database_url="unused")
    app = create_service_app("tests", settings, engine)
    app.add_route("/api/count", Counting())
    client = falcon.testing.TestClient(app)

    # What nginx passes on from a traced client (or what a tracing gateway sends).
    result = client.simulate_get("/api/count", headers={
        "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "X-Request-ID": "trace-read-1"})

    assert result.status_code == 200
    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind == SpanKind.SERVER]
    assert [s.name for s in server] == ["GET /api/count"]
    assert format(server[0].parent.span_id, "016x") == PARENT_ID
    statements = [s for s in finished if s.kind == SpanKind.CLIENT
                  and "count(*)" in str(s.attributes.get("db.statement", ""))]
    assert statements, [s.name for s in finished]
    for span in [*server, *statements]:
        assert format(span.context.trace_id, "032x") == TRACE_ID
    assert statements[0].parent.span_id == server[0].context.span_id
    # The access log line carries the request id next to the trace and span ids.
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()
             if "trace-read-1" in line]
    access = [line for line in lines if line["logger"] == "conduit.access"]
    assert access and access[0]["trace_id"] == TRACE_ID
    assert access[0]["span_id"] == format(server[0].context.span_id, "016x")


def test_probes_make_no_spans(spans, engine):
    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS, database_url="unused")
    app = create_service_app("tests", settings, engine)
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/healthz").status_code == 200
    assert [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER] == []


class OutboxSource:
    name = "test-owner"

    def __init__(self, engine, outbox):
        self._engine, self._outbox = engine, outbox

    def read(self, after, limit, wait):
        with self._engine.connect() as connection:
            events = self._outbox.read(connection, after, limit)
        # Through the feed's JSON, as HttpEventSource receives them.
        events = [Event.from_json(json.loads(json.dumps(e.to_json()))) for e in events]
        return Batch(events, events[-1].position if events else after)

    def snapshot(self, cursor, limit):
        with self._engine.connect() as connection:
            return SnapshotPage(rows=[], position=self._outbox.head(connection))


def test_the_projectors_batch_links_to_the_writes_that_recorded_its_events(spans, engine,
                                                                           tables):
    _, outbox_t, notes, positions = tables
    outbox = Outbox(outbox_t)
    seen = []

    def apply(events):
        seen.extend(e.data for e in events)
        return [(pg_insert(notes).values(name=event.data["name"], times=1)
                 .on_conflict_do_nothing(), {}) for event in events]

    projection = Projection("trace-notes", apply, lambda s, rows: None,
                            lambda s: s.execute(notes.delete()))
    projector = Projector("tests", projection, OutboxSource(engine, outbox), engine,
                          PositionStore(positions), wait_seconds=0)
    projector.step()                     # no position yet: an (empty) snapshot first

    writes = []
    for name in ("first", "second"):
        with tracing.tracer().start_as_current_span(f"POST {name}") as span:
            writes.append(span.get_span_context())
            with SessionManager(engine).session() as session:
                outbox.record(session, "Noted", {"name": name})
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT data FROM auth.outbox ORDER BY id")).scalars()
        assert [row[TRACE_KEY].split("-")[1] for row in stored] == [
            format(w.trace_id, "032x") for w in writes]

    spans.clear()
    assert projector.step() == 2

    assert seen == [{"name": "first"}, {"name": "second"}]   # handlers never see _trace
    batch = [s for s in spans.get_finished_spans() if s.name == "project trace-notes"]
    assert len(batch) == 1 and batch[0].kind == SpanKind.CONSUMER
    assert [(link.context.trace_id, link.context.span_id) for link in batch[0].links] == [
        (w.trace_id, w.span_id) for w in writes]
    assert batch[0].attributes["conduit.events"] == 2
    # The batch's SQL belongs to the batch's trace.
    inserts = [s for s in spans.get_finished_spans()
               if "trace_test_notes" in str(s.attributes.get("db.statement", ""))]
    assert inserts and all(s.context.trace_id == batch[0].context.trace_id for s in inserts)


def test_an_event_without_a_trace_context_is_not_linked():
    event = Event(START, "Noted", {"name": "x"})
    assert "trace" not in event.to_json()
    assert Event.from_json(event.to_json()).trace is None
    assert tracing.link_to(None) is None
    assert tracing.link_to("not a traceparent") is None


def test_tracing_stays_off_without_an_endpoint(monkeypatch):
    monkeypatch.delenv(tracing.ENDPOINT_VARIABLE, raising=False)
    assert not tracing.configure_tracing("tests")
    assert not tracing.active()
    with pytest.raises(ValueError):
        Outbox(outbox_tables(MetaData(schema="auth"))).record(None, "Noted", {TRACE_KEY: "x"})
    assert tracing.traceparent() is None
    assert trace.get_current_span().get_span_context().is_valid is False
    assert isinstance(falcon.App(), falcon.App)


def test_a_call_to_a_peer_is_a_client_span_and_carries_its_traceparent(spans, fake_peer):
    """InternalClient (urllib3): the call is a child of the current span, and the peer
    receives that call's context, so the peer's server span continues the trace."""
    from conduit_common.http import InternalClient
    client = InternalClient(fake_peer.url, "auth")
    with tracing.tracer().start_as_current_span("caller") as caller:
        client.get_json("/internal/events", {"after": "0"})
    finished = spans.get_finished_spans()
    calls = [s for s in finished if s.kind == SpanKind.CLIENT]
    sent = fake_peer.requests[0][1].get("traceparent", "")

    assert len(calls) == 1
    assert calls[0].parent.span_id == caller.get_span_context().span_id
    assert sent.split("-")[1:3] == [f"{calls[0].context.trace_id:032x}",
                                    f"{calls[0].context.span_id:016x}"]

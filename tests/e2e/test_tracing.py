"""Traces through the real stack (tracing on, exported to the test's OTLP sink):
nginx passes the caller's traceparent on unchanged, the service logs its trace id next
to the request id, and an owner's write is linked from the projector batch that
applied its event. The in-process detail (SQL spans, links) is
libs/common/tests/integration/test_tracing.py."""
import time
import uuid


def _traceparent() -> tuple[str, str, str]:
    trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    return f"00-{trace_id}-{parent_id}-01", trace_id, parent_id


def _spans(sink, predicate, timeout=10.0, enough=bool) -> list[dict]:
    """The sink's spans that match, once `enough(found)` (default: any) or at timeout:
    each process exports its spans in its own batches, at its own time."""
    deadline = time.monotonic() + timeout
    while True:
        found = [span for span in list(sink.spans) if predicate(span)]
        if enough(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_nginx_passes_traceparent_on_and_the_service_logs_its_trace_id(
        local_stack, api, logged, new_request_id, otlp_sink):
    header, trace_id, parent_id = _traceparent()
    request_id = new_request_id()
    resp = api.request("GET", "/tags", headers={"traceparent": header,
                                                "X-Request-ID": request_id})
    assert resp.status_code == 200

    lines = logged("articles", request_id)
    assert lines and all(line.get("trace_id") == trace_id for line in lines), lines
    assert logged("gateway", request_id)            # the gateway's line has the request id
    server = _spans(otlp_sink, lambda s: s["trace_id"] == trace_id and s["kind"] == 2)
    assert [(s["service"], s["name"], s["parent_span_id"]) for s in server] == [
        ("articles", "GET /api/tags", parent_id)]
    sql = _spans(otlp_sink, lambda s: s["trace_id"] == trace_id and s["kind"] == 3)
    assert sql and {s["service"] for s in sql} == {"articles"}


def test_a_write_is_linked_from_the_projector_batch_that_applied_its_event(
        local_stack, api, otlp_sink):
    header, trace_id, _ = _traceparent()
    name = f"traced{uuid.uuid4().hex[:8]}"
    resp = api.request("POST", "/users", headers={"traceparent": header}, json={"user": {
        "username": name, "email": f"{name}@example.com", "password": "pw-traced-123456"}})
    assert resp.status_code == 201, resp.text

    projectors = {"profiles-projector", "articles-projector"}
    batches = _spans(otlp_sink, lambda s: s["name"].startswith("project ")
                     and trace_id in s["links"],
                     enough=lambda found: {s["service"] for s in found} >= projectors)
    assert {s["service"] for s in batches} >= projectors

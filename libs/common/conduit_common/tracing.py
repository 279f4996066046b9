"""OpenTelemetry traces: the one place that sets them up, per process.

Off unless OTEL_EXPORTER_OTLP_ENDPOINT is set: then nothing is installed at all (no
provider, no instrumentation; the API's no-op tracer costs a function call), and the
logs carry no trace ids. On, this process gets a TracerProvider exporting OTLP over
HTTP in batches (a background thread), the falcon, urllib3 and sqlalchemy
instrumentations, and W3C trace context (`traceparent`) in and out of every hop.

Called by `create_service_app` (each gunicorn worker builds its app after the fork:
gunicorn_defaults has no preload_app, so no provider, thread or socket crosses a fork)
and by the projector worker (events/runner.py). Never at import time.

The standard OTEL_* variables of the SDK apply: OTEL_SERVICE_NAME (default: the
service's name, e.g. `articles`, `articles-projector`), OTEL_TRACES_SAMPLER(_ARG)
(default: parent-based, always on), OTEL_EXPORTER_OTLP_HEADERS, ..._TIMEOUT.

Spans of our own (outbox writes, projector batches) go through `tracer()`, and
`traceparent()` / `link_to()` carry a span context through an event (events/).
"""
import logging
import os
import threading
import weakref

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger("conduit.tracing")

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
# Probes and scrapes make no spans (an OTEL_PYTHON_FALCON_EXCLUDED_URLS of your own wins).
EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$"

_lock = threading.Lock()
_provider = None            # this process's TracerProvider, once configured
_instrumented = False
_traced_engines: "weakref.WeakSet" = weakref.WeakSet()
_propagator = TraceContextTextMapPropagator()


def enabled(environ=os.environ) -> bool:
    """Whether this process should trace (an OTLP endpoint is configured)."""
    return bool(environ.get(ENDPOINT_VARIABLE, "").strip())


def active() -> bool:
    """Whether tracing was configured in this process (and is instrumenting)."""
    return _instrumented


def configure_tracing(service: str, *, engines=(), exporter=None) -> bool:
    """Trace this process when OTEL_EXPORTER_OTLP_ENDPOINT is set (or `exporter` is
    given: tests pass an InMemorySpanExporter). Returns whether tracing is on.

    `engines` are SQLAlchemy engines created before this call (later ones are traced
    by create_db_engine). Safe to call again: the provider is made once per process.
    """
    global _provider, _instrumented
    if exporter is None and not enabled():
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    with _lock:
        if _provider is None:
            name = os.environ.get("OTEL_SERVICE_NAME") or service
            _provider = TracerProvider(resource=Resource.create({"service.name": name}))
            trace.set_tracer_provider(_provider)
            if exporter is None:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import \
                    OTLPSpanExporter
                _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
                log.info("tracing on: OTLP/HTTP to %s as %s",
                         os.environ[ENDPOINT_VARIABLE], name)
        if exporter is not None:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        if not _instrumented:
            _instrument(engines)
            _instrumented = True
        else:
            for engine in engines:
                _trace_engine(engine)
    return True


def _instrument(engines) -> None:
    from opentelemetry.instrumentation.falcon import FalconInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
    os.environ.setdefault("OTEL_PYTHON_FALCON_EXCLUDED_URLS", EXCLUDED_URLS)
    # Falcon: replaces falcon.App, so every app made from now on starts a server span
    # per request, continuing the caller's traceparent (create_service_app calls us
    # before it makes the app).
    FalconInstrumentor().instrument()
    # urllib3: a client span per call, and traceparent on the wire (InternalClient).
    URLLib3Instrumentor().instrument()
    # SQLAlchemy: a span per statement, per engine (trace_engine: the ones made before
    # now are passed in, create_db_engine hands over the ones made later). Not the
    # instrumentor's instrument(): it wraps create_async_engine too, which imports
    # SQLAlchemy's asyncio module and with it greenlet, which we do not install.
    for engine in engines:
        _trace_engine(engine)


def trace_engine(engine) -> None:
    """Trace the statements of `engine` if tracing is on in this process (else nothing)."""
    if _instrumented:
        with _lock:
            _trace_engine(engine)


def _trace_engine(engine) -> None:
    # The instrumentation's per-engine tracer. It declares SQLAlchemy < 2.1 but only
    # uses the core event API, which 2.1 keeps (tests/integration/test_tracing.py).
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    if engine in _traced_engines:
        return
    from opentelemetry.metrics import get_meter
    usage = get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    EngineTracer(trace.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine, usage)
    _traced_engines.add(engine)


def uninstrument() -> None:
    """Remove the instrumentation again (tests); the provider stays (one per process)."""
    global _instrumented
    from opentelemetry.instrumentation.falcon import FalconInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    with _lock:
        if _instrumented:
            FalconInstrumentor().uninstrument()
            URLLib3Instrumentor().uninstrument()
            EngineTracer.remove_all_event_listeners()
            _traced_engines.clear()
            _instrumented = False


def shutdown() -> None:
    """Export what is still buffered (gunicorn's worker_exit, the projector's stop)."""
    if _provider is not None:
        _provider.shutdown()


def tracer() -> trace.Tracer:
    """The tracer of our own spans (a no-op one while tracing is off)."""
    return trace.get_tracer("conduit")


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) in hex of the active span, for log lines; None without one."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def traceparent() -> str | None:
    """The active span's W3C traceparent (to store beside an event), or None."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def link_to(value: str | None) -> trace.Link | None:
    """A Link to the span a stored traceparent names (None if absent or malformed)."""
    if not value:
        return None
    context = trace.get_current_span(_propagator.extract({"traceparent": value}))
    span_context = context.get_span_context()
    return trace.Link(span_context) if span_context.is_valid else None

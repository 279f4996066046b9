"""Prometheus metrics of a service: requests, latency, in-flight, DB pool, peer calls.

Under gunicorn every worker is a process of its own, so prometheus-client runs in
multiprocess mode: gunicorn_defaults points PROMETHEUS_MULTIPROC_DIR at a fresh
directory before the workers start, each worker writes its samples there, and
/metrics (on the internal port only, see ports.py) adds them up. Without that
variable (tests, scripts) the metrics live in this process's default registry.

Names: conduit_http_requests_total, conduit_http_request_duration_seconds,
conduit_http_requests_in_flight, conduit_db_pool_connections_in_use,
conduit_db_pool_timeouts_total, conduit_internal_calls_total; owners add the outbox
gauges at scrape time; projectors export conduit_projector_* (events/runner.py).
"""
import os
import time
from collections.abc import Callable

import falcon
import sqlalchemy
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest, multiprocess)
from prometheus_client import REGISTRY
from sqlalchemy import event

# Up to 2.5 s: the longest internal budget; slower requests all count as "slow".
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

REQUESTS = Counter("conduit_http_requests_total", "HTTP requests answered",
                   ["service", "route", "method", "status"])
LATENCY = Histogram("conduit_http_request_duration_seconds", "Time to answer a request",
                    ["service", "route", "method"], buckets=LATENCY_BUCKETS)
IN_FLIGHT = Gauge("conduit_http_requests_in_flight", "Requests being answered",
                  ["service"], multiprocess_mode="livesum")
POOL_IN_USE = Gauge("conduit_db_pool_connections_in_use", "Pooled connections checked out",
                    ["service"], multiprocess_mode="livesum")
POOL_TIMEOUTS = Counter("conduit_db_pool_timeouts_total",
                        "Requests that found no free connection in time", ["service"])
PEER_CALLS = Counter("conduit_internal_calls_total", "Calls to another service's internal API",
                     ["peer", "outcome"])

# Probes and scrapes are not traffic.
_UNCOUNTED = frozenset({"/healthz", "/readyz", "/metrics"})


class MetricsMiddleware:
    """Count and time every request by its route template (never the raw path: a slug
    per article would make a time series per article)."""

    def __init__(self, service: str):
        self._service = service
        self._in_flight = IN_FLIGHT.labels(service)
        # The labelled series of each (route, method, status), looked up once: labels()
        # takes a lock and builds its key on every call. Bounded by the route templates.
        self._series: dict[tuple[str, str, int], tuple] = {}

    def process_request(self, req, resp):
        if req.path not in _UNCOUNTED:
            req.context.metrics_started = time.perf_counter()
            self._in_flight.inc()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        self._in_flight.dec()
        key = (req.uri_template or "unmatched", req.method, resp.status_code)
        series = self._series.get(key)
        if series is None:
            route, method, status = key
            series = self._series[key] = (
                REQUESTS.labels(self._service, route, method, str(status)),
                LATENCY.labels(self._service, route, method))
        requests, latency = series
        requests.inc()
        latency.observe(time.perf_counter() - started)


def instrument_pool(engine: sqlalchemy.Engine, service: str) -> None:
    """Track checked-out connections of this worker's pool."""
    gauge = POOL_IN_USE.labels(service)
    event.listen(engine, "checkout", lambda *args: gauge.inc())
    event.listen(engine, "checkin", lambda *args: gauge.dec())


def registry() -> CollectorRegistry:
    """Every worker's samples (multiprocess mode), else this process's registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


class MetricsResource:
    """GET /metrics in Prometheus' text format; `extra` adds scrape-time samples."""

    uses_database = False

    def __init__(self, extra: Callable[[], str] | None = None):
        self._extra = extra

    def on_get(self, req, resp):
        text = generate_latest(registry()).decode()
        if self._extra is not None:
            text += self._extra()
        resp.content_type = CONTENT_TYPE_LATEST
        resp.text = text
        resp.status = falcon.HTTP_200

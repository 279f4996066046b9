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
import threading
import time
import weakref
from collections.abc import Callable

import falcon
import sqlalchemy
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest, multiprocess)
from prometheus_client import REGISTRY

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


# How often each worker writes its live gauges (in flight, pool in use).
SAMPLE_SECONDS = 1.0


class GaugeSampler:
    """Writes gauges from live counts every `interval` seconds, in one thread per process.

    Why not move them with each request: in multiprocess mode every change of a value
    takes a process-wide lock, checks the pid and writes the mmap file. The in-flight
    gauge (inc and dec per request) and the pool gauge (per checkout and checkin) were
    8-10 % of an articles worker's CPU on /tags (py-spy). A gauge is read as a sample
    at scrape time anyway; this one is at most `interval` old.

    Sources are held weakly (a test session builds many apps and engines); the gauge
    of a label is the sum of its live sources. The thread starts with the first source
    in each process (gunicorn builds the apps in the workers, after the fork).
    """

    def __init__(self, interval: float = SAMPLE_SECONDS):
        self._interval = interval
        self._sources: list[tuple[object, weakref.ref, Callable[[object], float]]] = []
        self._lock = threading.Lock()
        self._pid: int | None = None

    def add(self, gauge, owner, read: Callable[[object], float]) -> None:
        """Write `read(owner)` to `gauge` (a labelled child) while `owner` lives."""
        with self._lock:
            self._sources.append((gauge, weakref.ref(owner), read))
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, daemon=True, name="gauge sampler").start()
        self.sample()

    def sample(self) -> None:
        totals: dict[int, tuple[object, float]] = {}
        with self._lock:
            live = []
            for gauge, owner_ref, read in self._sources:
                owner = owner_ref()
                if owner is None:
                    continue
                live.append((gauge, owner_ref, read))
                _, total = totals.get(id(gauge), (gauge, 0.0))
                totals[id(gauge)] = (gauge, total + read(owner))
            self._sources = live
        for gauge, total in totals.values():
            gauge.set(total)

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            try:
                self.sample()
            except Exception:  # noqa: BLE001 - a metric must never take a worker down
                pass


SAMPLER = GaugeSampler()


class MetricsMiddleware:
    """Count and time every request by its route template (never the raw path: a slug
    per article would make a time series per article)."""

    def __init__(self, service: str):
        self._service = service
        # Requests being answered, counted under a plain lock (cheap); GaugeSampler
        # writes the count to the gauge.
        self._counting = threading.Lock()
        self.in_flight = 0
        SAMPLER.add(IN_FLIGHT.labels(service), self, lambda middleware: middleware.in_flight)
        # The labelled series of each (route, method, status), looked up once: labels()
        # takes a lock and builds its key on every call. Bounded by the route templates.
        self._series: dict[tuple[str, str, int], tuple] = {}

    def process_request(self, req, resp):
        if req.path not in _UNCOUNTED:
            req.context.metrics_started = time.perf_counter()
            with self._counting:
                self.in_flight += 1

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "metrics_started", None)
        if started is None:
            return
        with self._counting:
            self.in_flight -= 1
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
    """Track checked-out connections of this worker's pool (sampled, see GaugeSampler)."""
    SAMPLER.add(POOL_IN_USE.labels(service), engine, lambda engine: engine.pool.checkedout())


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

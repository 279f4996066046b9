"""A consuming service's projector process: its projectors, a health port, a supervisor.

`python -m conduit_<service>.projector` runs `main()`: a supervisor that starts the
worker (`--worker`) as a child process and starts it again, with backoff, whenever
it dies; SIGTERM or Ctrl-C stop both. The worker runs one thread per projection and
answers on PROJECTOR_PORT:
  /healthz  every projector thread has made progress (or waited) recently
  /readyz   every projection has caught up with its owner (503 until then)
  /status   JSON: state, position lag percentiles per projection (bench, operators)
  /metrics  Prometheus: conduit_projector_* (events applied, lag, position, caught up,
            rebuilds, failures)
"""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from wsgiref.simple_server import WSGIRequestHandler, make_server

import falcon

from conduit_common.db import create_db_engine
from conduit_common.events.projector import PositionStore, Projection, Projector
from conduit_common.events.transport import HttpEventSource
from conduit_common.http import InternalClient
from conduit_common.keys import SigningKey
from conduit_common.logs import configure_logging
from conduit_common.media import install_media_handlers
from conduit_common.metrics import MetricsResource
from conduit_common.service_auth import ServiceTokenSigner
from conduit_common.settings import read_signing_key
from conduit_common import tracing

log = logging.getLogger("conduit.projector")

# A long-poll waits up to 5 s per step; a thread silent for much longer is stuck.
STALE_SECONDS = 60.0


class _Health:
    uses_database = False

    def __init__(self, projectors: list[Projector], positions: PositionStore, engine):
        self._projectors = projectors
        self._positions = positions
        self._engine = engine

    def on_get(self, req, resp):
        now = time.monotonic()
        stale = [p.projection.name for p in self._projectors if now - p.heartbeat > STALE_SECONDS]
        resp.status = falcon.HTTP_503 if stale else falcon.HTTP_200
        resp.media = {"status": "stuck" if stale else "ok", "stuck": stale}

    def on_get_ready(self, req, resp):
        """Ready once every projection has caught up (stored, so the API sees it too)
        and this process has reached each owner's head since it started: a restarted
        worker is not ready before it has applied what was published while it was gone.
        A standby is ready: another instance leads."""
        names = [p.projection.name for p in self._projectors]
        if any(p.state not in ("following", "standby") for p in self._projectors):
            resp.status = falcon.HTTP_503
            resp.media = {"status": "catching up"}
            return
        try:
            with self._engine.connect() as connection:
                ready = self._positions.all_caught_up(connection, names)
        except Exception as ex:  # noqa: BLE001 - not ready is the answer to any failure
            log.warning("readiness check failed: %s", ex)
            ready = False
        resp.status = falcon.HTTP_200 if ready else falcon.HTTP_503
        resp.media = {"status": "ready" if ready else "catching up"}

    def on_get_status(self, req, resp):
        """?since=<unix time>: lags of events applied from then on (default: all kept)."""
        since = req.get_param_as_float("since")
        resp.media = {"projections": [{
            "name": p.projection.name, "source": p.source.name, "state": p.state,
            "lag_ms": p.lags.summary(since),
        } for p in self._projectors]}


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):   # probes every few seconds: not worth a log line
        pass


def health_app(projectors: list[Projector], positions: PositionStore, engine) -> falcon.App:
    app = falcon.App()
    install_media_handlers(app)
    health = _Health(projectors, positions, engine)
    app.add_route("/healthz", health)
    app.add_route("/readyz", health, suffix="ready")
    app.add_route("/status", health, suffix="status")
    app.add_route("/metrics", MetricsResource())
    return app


def run_worker(service: str, build: Callable[[], tuple[list[Projector], PositionStore, object]]
               ) -> int:
    """Run every projector until SIGTERM/SIGINT; serve health on PROJECTOR_PORT."""
    configure_logging(f"{service}-projector", os.environ.get("LOG_LEVEL", "INFO").upper())
    # Before build(): its engines and HTTP sessions are then traced (when tracing is on).
    tracing.configure_tracing(f"{service}-projector")
    projectors, positions, engine = build()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threads = [threading.Thread(target=p.run, args=(stop,), name=p.projection.name, daemon=True)
               for p in projectors]
    for thread in threads:
        thread.start()
    port = int(os.environ.get("PROJECTOR_PORT", "8000"))
    server = make_server(os.environ.get("HOST", "0.0.0.0"), port,
                         health_app(projectors, positions, engine), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log.info("projector of %s: %s; health on port %d", service,
             ", ".join(p.projection.name for p in projectors), port)
    stop.wait()
    server.shutdown()
    for thread in threads:
        thread.join(timeout=10)
    engine.dispose()
    tracing.shutdown()
    return 0


def supervise(argv: list[str], max_backoff: float = 30.0) -> int:
    """Run `argv` and start it again whenever it dies; stop it on SIGTERM/SIGINT."""
    stopping = threading.Event()
    child: subprocess.Popen | None = None

    def forward(signum, frame):
        stopping.set()
        if child is not None and child.poll() is None:
            child.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    backoff = 1.0
    while not stopping.is_set():
        started = time.monotonic()
        child = subprocess.Popen(argv)
        code = child.wait()
        if stopping.is_set():
            return 0
        if time.monotonic() - started > 60:
            backoff = 1.0      # it ran for a while: this is a new failure, not a crash loop
        print(f"projector exited with {code}; restarting in {backoff:.0f} s",
              file=sys.stderr, flush=True)
        stopping.wait(backoff)
        backoff = min(backoff * 2, max_backoff)
    return 0


def main(module: str, service: str, build) -> int:
    """The `project` command: supervisor by default, the worker with --worker."""
    if "--worker" in sys.argv[1:]:
        return run_worker(service, build)
    return supervise([sys.executable, "-m", module, "--worker"])


def http_source(env, url_variable: str, owner: str, consumer: str, snapshot_path: str,
                key: SigningKey) -> HttpEventSource:
    """An owner's feed over its internal API, at the URL in `url_variable`, called with
    service tokens for that owner signed with the consumer's `key`."""
    timeout = env.float("DOWNSTREAM_TIMEOUT_SECONDS", 2.0)
    client = InternalClient(env.str(url_variable), owner, connect_timeout=min(0.5, timeout),
                            read_timeout=timeout, pool_size=2,
                            authorization=ServiceTokenSigner(key, audience=owner).authorization)
    return HttpEventSource(client, name=owner, consumer=consumer, snapshot_path=snapshot_path)


@dataclass(frozen=True)
class Subscription:
    """One projection of a consuming service and the owner feed that fills it."""

    projection: Projection
    owner: str                  # the owner's service name (its feed's name)
    url_variable: str           # where the owner's internal URL is, e.g. AUTH_SERVICE_URL
    snapshot_path: str          # the owner's snapshot endpoint for this projection


USERS_SNAPSHOT_PATH = "/internal/users/snapshot"


def build_projectors(service: str, env, positions_table, subscriptions: list[Subscription],
                     pool_size: int = 3):
    """The projectors of one consuming service, sharing one engine and position store.

    The projector is the only process of a consuming service that signs anything: its
    service key (SERVICE_PRIVATE_KEY) proves to the owners who is reading their feeds.
    """
    key = read_signing_key(env, "SERVICE_PRIVATE_KEY", owner=service)
    engine = create_db_engine(env.str("DATABASE_URL"), pool_size=pool_size,
                              application_name=f"{service}-projector")
    positions = PositionStore(positions_table)
    projectors = [
        Projector(service, sub.projection,
                  http_source(env, sub.url_variable, sub.owner, consumer=service,
                              snapshot_path=sub.snapshot_path, key=key),
                  engine, positions)
        for sub in subscriptions]
    return projectors, positions, engine

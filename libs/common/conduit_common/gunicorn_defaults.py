"""Gunicorn settings every service shares; each service's gunicorn.conf.py
does `from conduit_common.gunicorn_defaults import *` and may override.

gthread workers keep client connections alive (sync workers close after every
response), which matters behind nginx and for calls between services.
Apps are built per worker (no preload_app): engines, pools and HTTP sessions must
not be shared across a fork.
"""
import glob
import importlib
import os
import shutil
import tempfile

from conduit_common.gunicorn_worker import dedicated_internal_worker, role_lock_path

# The libraries every worker imports, imported once here, in the master: a worker that
# gunicorn forks (at start, after a crash, on a graceful reload) inherits them and
# imports only our own code. An articles worker's imports took 0.45 s of CPU, 0.1 s of
# it ours. On a reload that time is a gap: gunicorn stops the old workers as soon as
# the new ones are forked, so connections wait in the listen queue until a new one has
# imported everything. Only libraries: our code is still imported per worker, so that
# a reload picks up its changes. None of them opens a connection or starts a thread on
# import, so a fork after them is safe.
PRELOADED_LIBRARIES = ("sqlalchemy.orm", "sqlalchemy.dialects.postgresql.psycopg", "psycopg",
                       "falcon", "marshmallow", "jwt", "requests", "opentelemetry.trace",
                       "opentelemetry.trace.propagation.tracecontext")
for _library in PRELOADED_LIBRARIES:
    importlib.import_module(_library)

_host = os.environ.get("HOST", "0.0.0.0")
# The public port (gateway traffic) and, when INTERNAL_PORT is set, the internal one
# (internal API and /metrics; see conduit_common.ports).
bind = [f"{_host}:{os.environ.get('PORT', '8000')}"]
if os.environ.get("INTERNAL_PORT"):
    bind.append(f"{_host}:{os.environ['INTERNAL_PORT']}")

# prometheus-client's multiprocess mode: every worker writes its samples under this
# directory (fresh per start, so a restart does not add old counts) and /metrics sums
# them. Set here, in the master, before any worker imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="conduit-metrics-")

# WEB_CONCURRENCY workers serve the public port. With INTERNAL_WORKER=dedicated (the
# services that publish events) one more serves the internal port alone, so that the
# projectors' feeds never wait behind public requests (gunicorn_worker.py).
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
if os.environ.get("INTERNAL_PORT") and dedicated_internal_worker():
    workers += 1
# gthread; the internal port gets a thread pool (or a worker) of its own.
worker_class = "conduit_common.gunicorn_worker.SplitPoolThreadWorker"
# Public threads per worker: GUNICORN_THREADS, else the service's default (2 here;
# articles' gunicorn.conf.py sets `threads = public_threads(4)` after this import).
#
# Why so few: Python runs one thread of a worker at a time, so more threads only help
# while the others wait for Postgres, and each admits one more request whose Postgres
# backend and GIL hand-offs compete for the CPU with everything else, the event path
# included. The owners' (auth, profiles) requests are short: 2 threads. Under the
# bench's write mix on two cores, the projection lag's p99 was 57 ms (median of 12
# runs) with 2 threads everywhere and 90 ms (18 runs, up to 192) with 4, at the same
# write throughput (interleaved 8 s runs, bench/analysis.md). Articles' reads wait
# longer on Postgres (a list or the feed is about 1 ms of it): with 2 threads the feed
# left a quarter of the CPU idle, so articles keeps 4, which left the lag as low
# (43-69 ms in 3 runs).
# Requests beyond the threads wait in the worker's queue, where they take no CPU. A
# write that waits for its consumers (read-your-writes, at most 250 ms) holds its thread.


def public_threads(default: int) -> int:
    return int(os.environ.get("GUNICORN_THREADS") or default)


threads = public_threads(2)
keepalive = 75            # longer than nginx's upstream keepalive_timeout (60 s)
timeout = 30
graceful_timeout = 20
preload_app = False
accesslog = None          # the app logs each request as JSON, with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = os.environ.get("GUNICORN_TMP_DIR", "/tmp")
control_socket_disable = True  # one fixed path per user would collide between services


def child_exit(server, worker):
    """A dead worker's live gauges (in-flight, pool in use) stop counting."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Export the spans still buffered in this worker (tracing.py; no-op when off)."""
    from conduit_common.tracing import shutdown
    shutdown()


def on_exit(server):
    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)
    for path in glob.glob(role_lock_path(server.cfg.worker_tmp_dir, os.getpid(), "*")):
        os.remove(path)

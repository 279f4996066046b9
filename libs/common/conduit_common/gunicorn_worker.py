"""The gunicorn worker every service runs: gthread, with the internal port served by a
worker process of its own.

Why: a public write waits after its commit (bounded, read-your-writes) until the
consumers' projectors have applied its event, and those projectors read the event
through this same service's internal port (/internal/events). Two things used to delay
that read:
- the thread pool: with one pool, a burst of waiting writes took every thread and the
  projector's request sat in the queue until the writers gave up (follow events reached
  articles about 250 ms late at the median under the bench's write mix);
- the GIL: with a pool per port but one process, every step of a feed request (the
  worker's event loop, the handler, the response) still waited for the GIL behind the
  public threads. Under the bench's write mix, with the internal port in a process of
  its own, the owner's part (request, handler, response) of the slowest 2 % of events
  fell from 59 and 85 ms to 33 and 40 ms (auth's and profiles' feeds, one run each,
  bench/analysis.md).

So in the services that publish events (auth and profiles set INTERNAL_WORKER=dedicated
in their gunicorn.conf.py), exactly one worker serves the internal port (event feeds,
snapshots, /metrics) with INTERNAL_THREADS threads, and the others serve only the
public port. Which one is decided by an
exclusive lock on a file per master: the first worker to take it serves the internal
port and holds it for its life; when it dies the kernel releases the lock and the
worker gunicorn starts in its place takes it. gunicorn_defaults adds that worker to
WEB_CONCURRENCY, so the public port keeps its workers. Otherwise (articles, whose
internal port only serves /metrics, INTERNAL_WORKER=shared, or a single worker) every
worker serves both ports, each with its own thread pool.

Every worker that serves the public port also spreads its connections over the
workers (see `SplitPoolThreadWorker.accept`).

The worker class is named in gunicorn_defaults (`worker_class`).
"""
import fcntl
import os
import selectors
import time
from concurrent import futures

from gunicorn.workers.gthread import ThreadWorker

# Long-polls of the consumers' projectors (one per source and consumer), snapshot pages
# and Prometheus' scrapes: a handful at a time.
DEFAULT_INTERNAL_THREADS = 4

# How long a busy worker leaves a new public connection to an idle one before it takes
# the connection itself. An idle worker accepts within a fraction of this. When every
# worker is busy, each still accepts a connection at least this often: a burst of new
# connections is taken at that pace, which is paid once per connection, and nginx
# keeps a connection for about a thousand requests.
ACCEPT_YIELD_SECONDS = 0.005


def listener_port(address) -> int | None:
    """The port of a listener address (None for a unix socket)."""
    if isinstance(address, tuple) and len(address) >= 2:
        return int(address[1])
    return None


def dedicated_internal_worker() -> bool:
    """INTERNAL_WORKER=dedicated (the owners' gunicorn.conf.py) or shared (the default)."""
    mode = os.environ.get("INTERNAL_WORKER", "shared")
    if mode not in ("dedicated", "shared"):
        raise ValueError(f"INTERNAL_WORKER must be dedicated or shared, not {mode!r}")
    return mode == "dedicated"


def role_lock_path(tmp_dir: str, master_pid: int, internal_port: int | str) -> str:
    """One lock per gunicorn master (and port: several services may share a tmp dir)."""
    return os.path.join(tmp_dir, f"conduit-internal-worker-{master_pid}-{internal_port}.lock")


def claim_internal_role(path: str) -> int | None:
    """The open, exclusively locked file (keep it open: closing it releases the role),
    or None when another worker of this master holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


class SplitPoolThreadWorker(ThreadWorker):
    """gthread whose internal port is served by one dedicated worker (see the module),
    and whose public connections are spread over the workers (see `accept`)."""

    role = "both"
    internal_pool = None
    _role_lock = None
    _balanced_listeners = frozenset()
    _public_in_flight = 0
    _yielded_listeners = ()
    _resume_accepting_at = 0.0
    _yielded_last_time = False

    def init_process(self):
        internal = os.environ.get("INTERNAL_PORT", "")
        self.internal_port = int(internal) if internal else None
        if self.internal_port is not None and dedicated_internal_worker() and \
                self.cfg.workers > 1:
            self._role_lock = claim_internal_role(
                role_lock_path(self.cfg.worker_tmp_dir, self.ppid, self.internal_port))
            self.role = "internal" if self._role_lock is not None else "public"
            self.sockets = [s for s in self.sockets
                            if self._serves(listener_port(s.getsockname()))]
            self.log.info("worker %s serves the %s port", self.pid, self.role)
        if self.role != "public":
            threads = int(os.environ.get("INTERNAL_THREADS", DEFAULT_INTERNAL_THREADS))
            self.internal_pool = futures.ThreadPoolExecutor(max_workers=threads,
                                                            thread_name_prefix="internal")
        public_workers = self.cfg.workers - (0 if self.role == "both" else 1)
        self._balanced_listeners = frozenset(
            s for s in self.sockets if self._is_public(s.getsockname())
        ) if public_workers > 1 else frozenset()
        self._yielded_listeners = set()
        super().init_process()

    def _serves(self, port: int | None) -> bool:
        return (port == self.internal_port) == (self.role == "internal")

    def _is_public(self, address) -> bool:
        return self.internal_port is None or listener_port(address) != self.internal_port

    # Spreading public connections over the workers.
    #
    # nginx keeps its upstream connections open, and each one stays with the worker
    # that accepted it. gthread lets whichever worker is first to call accept() take a
    # new connection, and a busy worker (awake, its event loop turning) tends to beat an
    # idle one out of its sleep: on a held stack the two articles workers held 30 and 2
    # of nginx's connections, and the comments endpoint ran on one CPU while the
    # machine sat 37 % idle (bench/analysis.md).
    #
    # So a worker with a public request in flight steps back from a new connection for
    # ACCEPT_YIELD_SECONDS, which lets an idle worker take it. It never steps back twice
    # in a row: after a pause it takes the next connection, so a busy worker still
    # accepts one every ACCEPT_YIELD_SECONDS at least (32 connections opened at once
    # against two busy workers all had their first answer within 0.35 s; 0.13 s
    # without the pause). A rule that accepted only while a thread was free could
    # stop accepting altogether, and starved new connections under full load (5xx
    # and a p99 of 1.9 s).

    def accept(self, listener):
        if self._should_yield(listener):
            self.poller.unregister(listener)
            self._yielded_listeners.add(listener)
            self._resume_accepting_at = time.monotonic() + ACCEPT_YIELD_SECONDS
            self._yielded_last_time = True
            return
        self._yielded_last_time = False
        super().accept(listener)

    def _should_yield(self, listener) -> bool:
        return (listener in self._balanced_listeners and not self._yielded_last_time
                and self._public_in_flight > 0)

    def _resume_accepting(self):
        for listener in self._yielded_listeners:
            self.poller.register(listener, selectors.EVENT_READ, self.accept)
        self._yielded_listeners.clear()

    def wait_for_and_dispatch_events(self, timeout):
        resumed = False
        if self._yielded_listeners:
            remaining = self._resume_accepting_at - time.monotonic()
            if remaining > 0:
                timeout = min(timeout, remaining)
            else:
                self._resume_accepting()
                resumed = True
        super().wait_for_and_dispatch_events(timeout)
        if resumed:
            # The round after a pause has taken what still waited (or an idle worker
            # had): the next new connection may be left to the others again.
            self._yielded_last_time = False

    def set_accept_enabled(self, enabled):
        # gthread registers or unregisters every listener here; put back the ones a
        # pause took out first, so that its bookkeeping holds.
        self._resume_accepting()
        super().set_accept_enabled(enabled)

    def finish_request(self, conn, fs):
        if self._is_public(conn.server):
            self._public_in_flight -= 1
        super().finish_request(conn, fs)

    def enqueue_req(self, conn):
        # gunicorn calls this from the worker's event loop thread only (new connections
        # and kept-alive ones with a new request), so swapping the pool it submits to
        # for the length of the call is safe, and it keeps gthread's own bookkeeping.
        public = self._is_public(conn.server)
        if public:
            self._public_in_flight += 1
        if self.internal_pool is None or public:
            super().enqueue_req(conn)
            return
        public, self.tpool = self.tpool, self.internal_pool
        try:
            super().enqueue_req(conn)
        finally:
            self.tpool = public

    def run(self):
        try:
            super().run()
        finally:
            self._shutdown_internal_pool()

    def handle_quit(self, sig, frame):
        self._shutdown_internal_pool()
        super().handle_quit(sig, frame)

    def _shutdown_internal_pool(self):
        if self.internal_pool is not None:
            self.internal_pool.shutdown(wait=False)

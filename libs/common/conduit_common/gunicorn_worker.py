"""The gunicorn worker every service runs: gthread, with the internal port's
connections served by threads of their own.

Why: a public write waits after its commit (bounded, read-your-writes) until the
consumers' projectors have applied its event, and those projectors read the event
through this same service's internal port (/internal/events). With one thread pool,
a burst of such writes could take every thread, so the projector's request sat in the
pool's queue until the writers gave up waiting: measured under the bench's write mix,
follow events reached articles about 250 ms late at the median, exactly the writers'
bound. With a pool per port, public traffic can never starve the internal API
(event feeds, snapshots, /metrics), nor can long-polls take public threads.

The worker class is named in gunicorn_defaults (`worker_class`).
"""
import os
from concurrent import futures

from gunicorn.workers.gthread import ThreadWorker

# Long-polls of the consumers' projectors (one per source and consumer), snapshot pages
# and Prometheus' scrapes: a handful at a time.
DEFAULT_INTERNAL_THREADS = 4


def listener_port(address) -> int | None:
    """The port of a listener address (None for a unix socket)."""
    if isinstance(address, tuple) and len(address) >= 2:
        return int(address[1])
    return None


class SplitPoolThreadWorker(ThreadWorker):
    """gthread with a second thread pool for connections accepted on INTERNAL_PORT."""

    def init_process(self):
        internal = os.environ.get("INTERNAL_PORT", "")
        self.internal_port = int(internal) if internal else None
        threads = int(os.environ.get("INTERNAL_THREADS", DEFAULT_INTERNAL_THREADS))
        self.internal_pool = futures.ThreadPoolExecutor(max_workers=threads,
                                                        thread_name_prefix="internal")
        super().init_process()

    def enqueue_req(self, conn):
        # gunicorn calls this from the worker's event loop thread only (new connections
        # and kept-alive ones with a new request), so swapping the pool it submits to
        # for the length of the call is safe, and it keeps gthread's own bookkeeping.
        if self.internal_port is None or listener_port(conn.server) != self.internal_port:
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
            self.internal_pool.shutdown(wait=False)

    def handle_quit(self, sig, frame):
        self.internal_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

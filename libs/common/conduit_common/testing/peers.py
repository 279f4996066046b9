"""A fake peer service on a real socket, for testing what a client does over HTTP."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How long a hanging request waits at most, should a test forget to close its peer.
HANG_LIMIT_SECONDS = 10.0


class FakePeer:
    """A ThreadingHTTPServer on 127.0.0.1 whose answers the test scripts.

    Every GET is recorded in `requests` (path, headers) and `client_ports`. The peer
    answers `{"path": <path>}` with the next status of `statuses` (200 once they run
    out), after `delay` seconds; with `hang`, it holds each request until close().
    Connections are kept alive (HTTP/1.1), as gunicorn's gthread workers keep them.
    """

    def __init__(self, hang: bool = False):
        self.requests: list[tuple[str, dict]] = []
        self.client_ports: list[int] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self.hang = hang
        self._released = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                peer._record(self)
                peer._wait()
                try:
                    peer._answer(self)
                except OSError:
                    pass  # the client gave up waiting and closed the connection

            def log_message(self, *args):
                pass

        return Handler

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append((handler.path, dict(handler.headers)))
        self.client_ports.append(handler.client_address[1])

    def _wait(self) -> None:
        if self.hang:
            self._released.wait(HANG_LIMIT_SECONDS)
        else:
            time.sleep(self.delay)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        status = self.statuses.pop(0) if self.statuses else 200
        body = json.dumps({"path": handler.path}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        """Release hanging requests and stop serving."""
        self._released.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakePeer":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

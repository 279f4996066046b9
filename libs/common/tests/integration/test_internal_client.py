"""The internal client against real sockets: refused, slow, failing and healthy peers."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conduit_common.errors import DependencyUnavailable
from conduit_common.http import InternalClient
from conduit_common.logs import _request_id
from conduit_common.testing.postgres import free_port


class FakePeer:
    """A tiny HTTP server whose answers the test scripts."""

    def __init__(self):
        self.requests = []
        self.client_ports = []
        self.statuses = []      # consumed one per request; 200 when empty
        self.delay = 0.0
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive, like gunicorn's gthread workers

            def do_GET(self):
                peer.requests.append((self.path, dict(self.headers)))
                peer.client_ports.append(self.client_address[1])
                time.sleep(peer.delay)
                status = peer.statuses.pop(0) if peer.statuses else 200
                body = json.dumps({"path": self.path}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer():
    server = FakePeer()
    yield server
    server.close()


def test_healthy_peer_answers_json_with_params(peer):
    client = InternalClient(peer.url, "auth")
    assert client.get_json("/internal/users", {"id": [1, 2]}) == {
        "path": "/internal/users?id=1&id=2"}


def test_request_id_is_propagated(peer):
    token = _request_id.set("req-42")
    try:
        InternalClient(peer.url, "auth").get_json("/x")
    finally:
        _request_id.reset(token)
    assert peer.requests[0][1]["X-Request-ID"] == "req-42"


def test_refused_connection_is_a_fast_503():
    client = InternalClient(f"http://127.0.0.1:{free_port()}", "profiles")
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as caught:
        client.get_json("/internal/profiles")
    assert time.monotonic() - started < 1.0
    assert caught.value.to_body() == {
        "errors": {"body": ["profiles service is unavailable, try again later"]}}


def test_slow_peer_is_a_503_within_the_read_timeout_and_not_retried(peer):
    peer.delay = 1.0
    client = InternalClient(peer.url, "auth", read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        client.get_json("/slow")
    assert time.monotonic() - started < 0.9
    assert len(peer.requests) == 1


def test_a_passing_503_is_retried_once_and_succeeds(peer):
    peer.statuses = [503]
    assert InternalClient(peer.url, "auth").get_json("/flaky") == {"path": "/flaky"}
    assert len(peer.requests) == 2


def test_a_persistent_5xx_becomes_503(peer):
    peer.statuses = [500, 500]
    with pytest.raises(DependencyUnavailable):
        InternalClient(peer.url, "auth").get_json("/broken")


def test_connections_are_kept_alive_across_calls(peer):
    client = InternalClient(peer.url, "auth")
    for _ in range(3):
        client.get_json("/x")
    assert len(peer.client_ports) == 3
    assert len(set(peer.client_ports)) == 1


def test_proxy_settings_of_the_environment_are_ignored(peer, monkeypatch):
    # A proxy variable pointing nowhere would break every call if it were honoured.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "")
    assert InternalClient(peer.url, "auth").get_json("/x") == {"path": "/x"}

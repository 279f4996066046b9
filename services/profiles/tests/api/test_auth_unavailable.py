"""When auth refuses or is slow, requests answer 503 in the error shape, in bounded time."""
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from falcon import testing

from conduit_common.testing.postgres import free_port
from conduit_profiles.app import create_app
from conduit_profiles.clients import AuthClient

TIMEOUT = 0.3
MARGIN = 0.5


@pytest.fixture
def slow_auth_url():
    """A real HTTP server that holds every request well past the client's timeout."""
    release = threading.Event()

    class Sleeper(BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(10 * TIMEOUT)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"users": []}')
            except OSError:
                pass  # the client has long given up

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sleeper)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def refused_auth_url():
    """A port nobody listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def client_of(settings, engine):
    """client_of(url): the app with a real AuthClient pointed at url; closed afterwards."""
    clients = []

    def build(url):
        auth = AuthClient.from_settings(replace(settings, auth_service_url=url,
                                                downstream_timeout_seconds=TIMEOUT))
        clients.append(auth)
        return testing.TestClient(create_app(settings, engine=engine, auth_client=auth))

    yield build
    for auth in clients:
        auth.close()


def _timed_get(client, path, query_string=None):
    started = time.monotonic()
    result = client.simulate_get(path, query_string=query_string)
    return result, time.monotonic() - started


@pytest.mark.parametrize("path, query", [("/api/profiles/jake", None),
                                         ("/internal/profiles", "id=1&id=2")])
def test_slow_auth_turns_into_503_within_the_timeout(client_of, slow_auth_url, path, query):
    result, elapsed = _timed_get(client_of(slow_auth_url), path, query)

    assert result.status_code == 503
    assert result.json == {"errors": {"body": ["auth service is unavailable, try again later"]}}
    assert elapsed < TIMEOUT + MARGIN


@pytest.mark.parametrize("path, query", [("/api/profiles/jake", None),
                                         ("/internal/profiles", "id=1&id=2")])
def test_refused_auth_turns_into_503_quickly(client_of, refused_auth_url, path, query):
    result, elapsed = _timed_get(client_of(refused_auth_url), path, query)

    assert result.status_code == 503
    assert result.json["errors"]["body"] == ["auth service is unavailable, try again later"]
    assert elapsed < TIMEOUT + MARGIN


def test_app_builds_its_auth_client_from_the_settings(settings, engine, refused_auth_url):
    app = create_app(replace(settings, auth_service_url=refused_auth_url), engine=engine)

    result = testing.TestClient(app).simulate_get("/api/profiles/jake")

    assert result.status_code == 503

"""When auth refuses or is slow, requests answer 503 in the error shape, in bounded time."""
import time
from dataclasses import replace

import pytest
from falcon import testing

from conduit_profiles.app import create_app
from conduit_profiles.clients import AuthClient

TIMEOUT = 0.3
MARGIN = 0.5


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
def test_slow_auth_turns_into_503_within_the_timeout(client_of, hanging_peer_url, path, query):
    result, elapsed = _timed_get(client_of(hanging_peer_url), path, query)

    assert result.status_code == 503
    assert result.json == {"errors": {"body": ["auth service is unavailable, try again later"]}}
    assert elapsed < TIMEOUT + MARGIN


@pytest.mark.parametrize("path, query", [("/api/profiles/jake", None),
                                         ("/internal/profiles", "id=1&id=2")])
def test_refused_auth_turns_into_503_quickly(client_of, refused_url, path, query):
    result, elapsed = _timed_get(client_of(refused_url), path, query)

    assert result.status_code == 503
    assert result.json["errors"]["body"] == ["auth service is unavailable, try again later"]
    assert elapsed < TIMEOUT + MARGIN


def test_app_builds_its_auth_client_from_the_settings(settings, engine, refused_url):
    app = create_app(replace(settings, auth_service_url=refused_url), engine=engine)

    result = testing.TestClient(app).simulate_get("/api/profiles/jake")

    assert result.status_code == 503

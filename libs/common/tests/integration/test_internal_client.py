"""The internal client against real sockets: refused, slow, failing and healthy peers."""
import time

import pytest

from conduit_common.errors import DependencyUnavailable
from conduit_common.http import InternalClient
from conduit_common.logs import _request_id
from conduit_common.testing.postgres import free_port


def test_healthy_peer_answers_json_with_params(fake_peer):
    client = InternalClient(fake_peer.url, "auth")
    assert client.get_json("/internal/users", {"id": [1, 2]}) == {
        "path": "/internal/users?id=1&id=2"}


def test_request_id_is_propagated(fake_peer):
    token = _request_id.set("req-42")
    try:
        InternalClient(fake_peer.url, "auth").get_json("/x")
    finally:
        _request_id.reset(token)
    assert fake_peer.requests[0][1]["X-Request-ID"] == "req-42"


def test_refused_connection_is_a_fast_503(refused_url):
    client = InternalClient(refused_url, "profiles")
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable) as caught:
        client.get_json("/internal/profiles")
    assert time.monotonic() - started < 1.0
    assert caught.value.to_body() == {
        "errors": {"body": ["profiles service is unavailable, try again later"]}}


def test_slow_peer_is_a_503_within_the_read_timeout_and_not_retried(fake_peer):
    fake_peer.delay = 1.0
    client = InternalClient(fake_peer.url, "auth", read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DependencyUnavailable):
        client.get_json("/slow")
    assert time.monotonic() - started < 0.9
    assert len(fake_peer.requests) == 1


def test_a_passing_503_is_retried_once_and_succeeds(fake_peer):
    fake_peer.statuses = [503]
    assert InternalClient(fake_peer.url, "auth").get_json("/flaky") == {"path": "/flaky"}
    assert len(fake_peer.requests) == 2


def test_a_persistent_5xx_becomes_503(fake_peer):
    fake_peer.statuses = [500, 500]
    with pytest.raises(DependencyUnavailable):
        InternalClient(fake_peer.url, "auth").get_json("/broken")


def test_connections_are_kept_alive_across_calls(fake_peer):
    client = InternalClient(fake_peer.url, "auth")
    for _ in range(3):
        client.get_json("/x")
    assert len(fake_peer.client_ports) == 3
    assert len(set(fake_peer.client_ports)) == 1


def test_proxy_settings_of_the_environment_are_ignored(fake_peer, monkeypatch):
    # A proxy variable pointing nowhere would break every call if it were honoured.
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NO_PROXY", "")
    assert InternalClient(fake_peer.url, "auth").get_json("/x") == {"path": "/x"}


def test_each_call_carries_the_callers_service_token_for_that_peer(fake_peer):
    from conduit_common.service_auth import ServiceTokenSigner, ServiceTokenVerifier
    from conduit_common.keys import KeySet
    from conduit_common.testing.keys import SERVICE_KEYS
    signer = ServiceTokenSigner(SERVICE_KEYS["articles"], audience="profiles")
    client = InternalClient(fake_peer.url, "profiles", authorization=signer.authorization)
    client.get_json("/internal/events")
    client.get_json("/internal/events")
    sent = [headers["Authorization"] for _, headers in fake_peer.requests]
    assert sent[0] == sent[1] and sent[0].startswith("Bearer ")
    verifier = ServiceTokenVerifier("profiles", KeySet.of(SERVICE_KEYS["articles"]))
    assert verifier.verify(sent[0].removeprefix("Bearer ")) == "articles"


def test_without_a_signer_no_authorization_is_sent(fake_peer):
    InternalClient(fake_peer.url, "auth").get_json("/x")
    assert "Authorization" not in fake_peer.requests[0][1]

"""Clients turn peer payloads into plain values; settings fail fast by name."""
import pytest

from conduit_common.config import ConfigError, Env
from conduit_common.errors import DependencyUnavailable

from conduit_articles.clients import AuthClient, ProfilesClient
from conduit_articles.config import ArticlesSettings


class Transport:
    def __init__(self, payload):
        self.payload = payload
        self.calls = []

    def get_json(self, path, params=None):
        self.calls.append((path, params))
        return self.payload


def test_usernames_are_asked_once_deduplicated_and_keyed_lowercase():
    transport = Transport({"users": [{"id": 3, "username": "Jake", "bio": None, "image": None}]})
    ids = AuthClient(transport).user_ids_by_username(["Jake", "Jake"])
    assert ids == {"jake": 3}
    assert transport.calls == [("/internal/users", {"username": ["Jake"]})]


def test_no_ids_means_no_call():
    transport = Transport({})
    assert ProfilesClient(transport).profiles([], 1) == {}
    assert AuthClient(transport).user_ids_by_username([]) == {}
    assert transport.calls == []


def test_profiles_are_keyed_by_id_and_carry_only_public_fields():
    transport = Transport({"profiles": [{"id": 2, "username": "ann", "bio": "b", "image": None,
                                         "following": True}]})
    profiles = ProfilesClient(transport).profiles([2, 2], viewer_id=7)
    assert profiles == {2: {"username": "ann", "bio": "b", "image": None, "following": True}}
    assert transport.calls == [("/internal/profiles", {"id": [2], "viewer": 7})]


def test_anonymous_viewer_is_not_sent():
    transport = Transport({"profiles": []})
    ProfilesClient(transport).profiles([2], viewer_id=None)
    assert transport.calls == [("/internal/profiles", {"id": [2]})]


@pytest.mark.parametrize("payload", [{}, {"profiles": [{"username": "no id"}]}, {"ids": "x"}])
def test_a_payload_that_breaks_the_contract_is_a_503(payload):
    with pytest.raises(DependencyUnavailable):
        ProfilesClient(Transport(payload)).profiles([1], None)


def test_settings_read_the_peers_and_the_timeout():
    settings = ArticlesSettings.from_env(Env({
        "CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql://x",
        "AUTH_SERVICE_URL": "http://a", "PROFILES_SERVICE_URL": "http://p",
        "DOWNSTREAM_TIMEOUT_SECONDS": "0.5"}))
    assert (settings.auth_service_url, settings.profiles_service_url,
            settings.downstream_timeout_seconds) == ("http://a", "http://p", 0.5)


@pytest.mark.parametrize("missing", ["AUTH_SERVICE_URL", "PROFILES_SERVICE_URL", "DATABASE_URL"])
def test_settings_fail_fast_naming_the_missing_variable(missing):
    environ = {"CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql://x",
               "AUTH_SERVICE_URL": "http://a", "PROFILES_SERVICE_URL": "http://p"}
    del environ[missing]
    with pytest.raises(ConfigError, match=missing):
        ArticlesSettings.from_env(Env(environ))

"""profiles' internal API (follow events and snapshot, read by the articles projector):
only a trusted caller's service token gets in; and profiles never holds a signing key."""
import os

import pytest

from conduit_common.testing.keys import (RecordingEnviron, every_key_variable,
                                         internal_headers, issuing_codec)
from conduit_profiles.app import create_app

FEED = ("/internal/events", {"consumer": "articles", "wait": 0})
SNAPSHOT = ("/internal/follows/snapshot", {"limit": 10})


@pytest.mark.parametrize("path, params", [FEED, SNAPSHOT])
def test_the_articles_projector_with_its_service_token_reads_the_internal_api(
        client, path, params):
    result = client.simulate_get(path, params=params,
                                 headers=internal_headers("articles", "profiles"))
    assert result.status_code == 200, result.json


@pytest.mark.parametrize("path, params", [FEED, SNAPSHOT])
def test_an_unauthenticated_internal_call_is_a_401(client, path, params):
    result = client.simulate_get(path, params=params)
    assert result.status_code == 401
    assert result.json["errors"]["body"]


@pytest.mark.parametrize("path, params", [FEED, SNAPSHOT])
def test_tokens_profiles_does_not_accept_are_a_401(client, path, params):
    for headers in (
            internal_headers("articles", "auth"),          # for another audience
            internal_headers("profiles", "profiles"),      # a caller profiles does not trust
            {"Authorization": f"Bearer {issuing_codec().issue(1, 'jake')}"}):  # a user's
        result = client.simulate_get(path, params=params, headers=headers)
        assert result.status_code == 401, headers


def test_profiles_never_reads_a_private_key(monkeypatch, engine, profiles_database_url):
    environ = RecordingEnviron({**every_key_variable(), "DATABASE_URL": profiles_database_url})
    monkeypatch.setattr(os, "environ", environ)

    app = create_app(engine=engine)

    assert app is not None and "JWT_PUBLIC_KEYS" in environ.asked
    assert environ.private_names_asked() == set()

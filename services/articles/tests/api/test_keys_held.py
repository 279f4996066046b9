"""articles verifies user tokens with public keys and holds no signing key."""
import os

from falcon import testing

from conduit_articles.app import create_app
from conduit_common.keys import KeySet, SigningKey
from conduit_common.testing.keys import RecordingEnviron, every_key_variable
from conduit_common.tokens import TokenCodec


def test_articles_never_reads_a_private_key(monkeypatch, engine, articles_database_url):
    environ = RecordingEnviron({**every_key_variable(), "DATABASE_URL": articles_database_url})
    monkeypatch.setattr(os, "environ", environ)

    app = create_app(engine=engine)

    assert app is not None and "JWT_PUBLIC_KEYS" in environ.asked
    assert environ.private_names_asked() == set()


def test_a_token_signed_by_a_key_outside_the_published_set_is_a_401(client, make_user):
    stranger = SigningKey.generate("auth")
    forged = TokenCodec(KeySet.of(stranger), stranger).issue(make_user("jake").id, "jake")

    result = client.simulate_get("/api/articles/feed",
                                 headers={"Authorization": f"Token {forged}"})

    assert result.status_code == 401
    assert result.json["errors"]["body"]


def test_the_internal_prefix_is_closed_without_a_service_token(settings, engine):
    # articles serves no internal route and trusts no caller: the answer is a 401
    # before routing, not a hint about which internal paths exist.
    client = testing.TestClient(create_app(settings, engine=engine))

    assert client.simulate_get("/internal/events").status_code == 401

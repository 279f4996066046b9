import falcon
import falcon.testing
import pytest
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.auth import optional_auth, require_auth
from conduit_common.errors import NotFound, Unprocessable
from conduit_common.settings import CommonSettings
from conduit_common.testing.keys import (SERVICE_PUBLIC_KEYS, USER_TOKEN_KEY,
                                         USER_TOKEN_KEYS)
from conduit_common.tokens import TokenCodec


class Probe:
    """A resource that exercises each contract of the base app."""

    uses_database = False

    @require_auth
    def on_get_private(self, req, resp):
        resp.media = {"user_id": req.context.identity.user_id,
                      "username": req.context.identity.username}

    @optional_auth
    def on_get_public(self, req, resp):
        identity = req.context.identity
        resp.media = {"user_id": identity.user_id if identity else None}

    def on_post_echo(self, req, resp):
        resp.media = {"received": req.get_media()}

    def on_get_missing(self, req, resp):
        raise NotFound("article not found")

    def on_get_conflict(self, req, resp):
        raise Unprocessable.on_field("email", "has already been taken")

    def on_get_crash(self, req, resp):
        raise RuntimeError("secret internals")


class DatabaseProbe:
    """Touches the database, which in these tests does not exist."""

    def on_get(self, req, resp):
        req.context.session.execute(sqlalchemy.text("SELECT 1"))
        resp.media = {"ok": True}


@pytest.fixture
def codec():
    return TokenCodec(USER_TOKEN_KEYS, USER_TOKEN_KEY, ttl_seconds=60)


@pytest.fixture
def settings():
    # Every caller's public key, as deployed; an app accepts only its own callers.
    return CommonSettings(jwt_public_keys=USER_TOKEN_KEYS,
                          database_url="postgresql+psycopg://nobody@127.0.0.1:1/x",
                          max_body_bytes=1024, service_public_keys=SERVICE_PUBLIC_KEYS)


@pytest.fixture
def client(settings, codec):
    # The engine is never connected by these routes (uses_database = False).
    engine = sqlalchemy.create_engine(settings.database_url)
    app = create_service_app("probe", settings, engine, codec=codec)
    probe = Probe()
    app.add_route("/private", probe, suffix="private")
    app.add_route("/public", probe, suffix="public")
    app.add_route("/echo", probe, suffix="echo")
    app.add_route("/missing", probe, suffix="missing")
    app.add_route("/conflict", probe, suffix="conflict")
    app.add_route("/crash", probe, suffix="crash")
    app.add_route("/database", DatabaseProbe())
    return falcon.testing.TestClient(app)

"""The real auth service under gunicorn, on the same test database, for profiles to call."""
from dataclasses import replace

import pytest
import requests
from falcon import testing

from conduit_common.http import InternalClient
from conduit_common.testing.contract import register_user
from conduit_common.testing.fixtures import migrated_service_url
from conduit_common.testing.postgres import repo_root
from conduit_common.testing.processes import gunicorn_service
from conduit_common.tokens import TokenCodec
from conduit_profiles.app import create_app
from conduit_profiles.clients import AuthClient


@pytest.fixture(scope="session")
def auth_database_url(conduit_database):
    return migrated_service_url(conduit_database, "auth",
                                repo_root() / "services" / "auth" / "alembic.ini")


@pytest.fixture(scope="session")
def auth_url(auth_database_url, secret):
    env = {"CONDUIT_SECRET": secret, "DATABASE_URL": auth_database_url,
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "LOG_LEVEL": "WARNING"}
    with gunicorn_service("auth", env) as url:
        yield url


class CountingSession(requests.Session):
    """A requests session that counts the requests it sends."""

    def __init__(self):
        super().__init__()
        self.sent = 0

    def send(self, request, **kwargs):
        self.sent += 1
        return super().send(request, **kwargs)


@pytest.fixture
def auth_http():
    """The HTTP session of the real AuthClient, exposed to count calls to auth."""
    session = CountingSession()
    yield session
    session.close()


@pytest.fixture
def profiles(settings, engine, auth_url, auth_http):
    """The profiles app in process, calling the real auth service over HTTP."""
    settings = replace(settings, auth_service_url=auth_url, downstream_timeout_seconds=2.0)
    auth = AuthClient(InternalClient(auth_url, "auth", read_timeout=2.0, session=auth_http))
    return testing.TestClient(create_app(settings, engine=engine, auth_client=auth))


@pytest.fixture
def register(auth_url, secret):
    """register(name) -> the user auth answers, plus "id" (the token's subject).

    Names get a random suffix, so tests need not empty auth's table.
    """
    codec = TokenCodec(secret)
    return lambda name: register_user(auth_url, name, codec)

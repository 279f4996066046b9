"""Real auth and profiles under gunicorn, on the same test database, for articles to call."""
import pytest
import requests
from falcon import testing

from conduit_common.http import InternalClient
from conduit_common.testing.contract import register_user
from conduit_common.testing.fixtures import migrated_service_url
from conduit_common.testing.postgres import repo_root
from conduit_common.testing.processes import gunicorn_service
from conduit_common.tokens import TokenCodec

from conduit_articles.app import create_app
from conduit_articles.clients import AuthClient, ProfilesClient

SECRET = "articles-contract-secret-0123456789abcdef"


def _migrated(conduit_database, service):
    return migrated_service_url(conduit_database, service,
                                repo_root() / "services" / service / "alembic.ini")


@pytest.fixture(scope="session")
def auth_url(conduit_database):
    env = {"CONDUIT_SECRET": SECRET, "DATABASE_URL": _migrated(conduit_database, "auth"),
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "LOG_LEVEL": "WARNING"}
    with gunicorn_service("auth", env) as url:
        yield url


@pytest.fixture(scope="session")
def profiles_url(conduit_database, auth_url):
    env = {"CONDUIT_SECRET": SECRET, "DATABASE_URL": _migrated(conduit_database, "profiles"),
           "AUTH_SERVICE_URL": auth_url, "LOG_LEVEL": "WARNING"}
    with gunicorn_service("profiles", env) as url:
        yield url


class CountingSession(requests.Session):
    """The HTTP session of a real client, counting the requests it sends by path."""

    def __init__(self):
        super().__init__()
        self.paths: list[str] = []

    def send(self, request, **kwargs):
        self.paths.append(request.path_url.split("?")[0])
        return super().send(request, **kwargs)


@pytest.fixture
def auth_http():
    with CountingSession() as session:
        yield session


@pytest.fixture
def profiles_http():
    with CountingSession() as session:
        yield session


@pytest.fixture
def articles(settings, engine, auth_url, profiles_url, auth_http, profiles_http):
    """The articles app in process, calling the real auth and profiles over HTTP."""
    auth = AuthClient(InternalClient(auth_url, "auth", session=auth_http))
    profiles = ProfilesClient(InternalClient(profiles_url, "profiles", session=profiles_http))
    return testing.TestClient(create_app(settings, engine=engine, auth_client=auth,
                                         profiles_client=profiles,
                                         codec=TokenCodec(SECRET)))


@pytest.fixture
def register(auth_url):
    """register(name) -> auth's user document plus its id and auth headers.

    Names get a random suffix, so tests need not empty auth's table.
    """
    codec = TokenCodec(SECRET)

    def register_with_headers(name: str) -> dict:
        user = register_user(auth_url, name, codec)
        return {**user, "headers": {"Authorization": f"Token {user['token']}"}}

    return register_with_headers


@pytest.fixture
def follow(profiles_url):
    def follow_user(follower: dict, followee: dict) -> None:
        response = requests.post(f"{profiles_url}/api/profiles/{followee['username']}/follow",
                                 headers=follower["headers"], timeout=10)
        assert response.status_code == 200, response.text

    return follow_user

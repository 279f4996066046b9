"""Real auth and profiles under gunicorn, on the same test database, feeding articles."""
import pytest
import requests
from falcon import testing

from conduit_common.config import Env
from conduit_common.testing.contract import register_user
from conduit_common.testing.fixtures import migrated_service_url
from conduit_common.testing.postgres import repo_root
from conduit_common.testing.processes import gunicorn_service
from conduit_common.testing.keys import projector_env, service_env, verifying_codec

from conduit_articles import projector as articles_projector
from conduit_articles.app import create_app
from conduit_profiles import projector as profiles_projector


def _migrated(conduit_database, service):
    return migrated_service_url(conduit_database, service,
                                repo_root() / "services" / service / "alembic.ini")


@pytest.fixture(scope="session")
def auth_url(conduit_database):
    env = {**service_env("auth"), "DATABASE_URL": _migrated(conduit_database, "auth"),
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "LOG_LEVEL": "WARNING",
           "CONSISTENCY_WAIT_SECONDS": "0.01"}
    with gunicorn_service("auth", env) as url:
        yield url


@pytest.fixture(scope="session")
def profiles_url(profiles_database, auth_url):
    # profiles' /readyz waits for its projection of auth's users: catch it up first.
    projectors, _, engine = profiles_projector.build(Env({
        "DATABASE_URL": profiles_database, "AUTH_SERVICE_URL": auth_url,
        **projector_env("profiles")}))
    try:
        _drain(projectors)
    finally:
        engine.dispose()
    env = {**service_env("profiles"), "DATABASE_URL": profiles_database,
           "LOG_LEVEL": "WARNING", "CONSISTENCY_WAIT_SECONDS": "0.01"}
    with gunicorn_service("profiles", env) as url:
        yield url


@pytest.fixture(scope="session")
def profiles_database(conduit_database):
    return _migrated(conduit_database, "profiles")


@pytest.fixture
def articles(settings, engine):
    return testing.TestClient(create_app(settings, engine=engine, codec=verifying_codec()))


def _drain(projectors) -> None:
    for projector in projectors:
        projector._wait = 0.3          # a short long-poll: an event may be briefly hidden
        projector.step()               # an empty projection first loads the snapshot
        while projector.step():
            pass


@pytest.fixture
def catch_up(engine, articles_database_url, profiles_database, auth_url, profiles_url):
    """Run both projectors (profiles' and ours, as `project` builds them) until drained."""
    profiles, _, profiles_engine = profiles_projector.build(Env({
        "DATABASE_URL": profiles_database, "AUTH_SERVICE_URL": auth_url,
        **projector_env("profiles")}))
    ours, _, our_engine = articles_projector.build(Env({
        "DATABASE_URL": articles_database_url, "AUTH_SERVICE_URL": auth_url,
        "PROFILES_SERVICE_URL": profiles_url, **projector_env("articles")}))
    yield lambda: _drain(profiles + ours)
    profiles_engine.dispose()
    our_engine.dispose()


@pytest.fixture
def register(auth_url):
    """register(name) -> auth's user document plus its id and auth headers.

    Names get a random suffix, so tests need not empty auth's table.
    """
    codec = verifying_codec()

    def register_with_headers(name: str) -> dict:
        user = register_user(auth_url, name, codec)
        return {**user, "headers": {"Authorization": f"Token {user['token']}"}}

    return register_with_headers


@pytest.fixture
def follow(profiles_url, catch_up):
    def follow_user(follower: dict, followee: dict) -> None:
        catch_up()   # profiles must know the followee first
        response = requests.post(f"{profiles_url}/api/profiles/{followee['username']}/follow",
                                 headers=follower["headers"], timeout=10)
        assert response.status_code == 200, response.text

    return follow_user

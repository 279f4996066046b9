"""The real auth service under gunicorn, on the same test database, feeding profiles."""
import pytest
from falcon import testing

from conduit_common.config import Env
from conduit_common.testing.contract import register_user
from conduit_common.testing.fixtures import migrated_service_url
from conduit_common.testing.postgres import repo_root
from conduit_common.testing.keys import projector_env, service_env, verifying_codec
from conduit_common.testing.processes import gunicorn_service
from conduit_profiles import projector
from conduit_profiles.app import create_app


@pytest.fixture(scope="session")
def auth_database_url(conduit_database):
    return migrated_service_url(conduit_database, "auth",
                                repo_root() / "services" / "auth" / "alembic.ini")


@pytest.fixture(scope="session")
def auth_url(auth_database_url):
    env = {**service_env("auth"), "DATABASE_URL": auth_database_url,
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "LOG_LEVEL": "WARNING"}
    with gunicorn_service("auth", env) as url:
        yield url


@pytest.fixture
def profiles(settings, engine):
    return testing.TestClient(create_app(settings, engine=engine))


@pytest.fixture
def users_projector(engine, auth_url, profiles_database_url):
    """The profiles projector, built as the `project` command builds it, against real auth."""
    projectors, _, own_engine = projector.build(Env({
        "DATABASE_URL": profiles_database_url, "AUTH_SERVICE_URL": auth_url,
        **projector_env("profiles")}))
    yield projectors[0]
    own_engine.dispose()


@pytest.fixture
def catch_up(users_projector):
    """Apply auth's events until the feed is drained (no long-poll wait)."""
    def catch_up():
        users_projector.step()      # the first step of an empty projection loads the snapshot
        while users_projector.step():
            pass
    users_projector._wait = 0.3   # a short long-poll: an event may be briefly hidden
    return catch_up


@pytest.fixture
def register(auth_url):
    """register(name) -> the user auth answers, plus "id" (the token's subject).

    Names get a random suffix, so tests need not empty auth's table.
    """
    codec = verifying_codec()
    return lambda name: register_user(auth_url, name, codec)

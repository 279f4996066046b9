"""Pytest fixtures for a real Postgres and for fake peers; a plugin loaded by entry point.

`DATABASE_URL`, when set, is a superuser URL of a server the tests may create
databases (and the bootstrap's cluster-wide roles and REVOKEs) on (CI's postgres
service); otherwise a throwaway cluster is started for the session. Each test session
gets its own freshly bootstrapped database.

libs/common's pyproject.toml registers this module under `pytest11`, so every pytest
run in the environment loads it before any conftest; nothing needs `pytest_plugins`.
"""
import os

import pytest
import sqlalchemy

from conduit_common.db import create_db_engine
from conduit_common.migrations import upgrade
from conduit_common.testing import postgres
from conduit_common.testing.peers import FakePeer


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = os.environ.get("DATABASE_URL")
    if url:
        postgres.wait_for_server(url)
        yield url
        return
    cluster = postgres.ThrowawayCluster().start()
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def conduit_database(postgres_admin_url):
    """A database bootstrapped by db/bootstrap.sh, dropped after the session."""
    database = postgres.create_test_database(postgres_admin_url)
    yield database
    postgres.drop_database(database)


def migrated_service_url(conduit_database, service: str, ini_path) -> str:
    """Upgrade one service's schema to head as its owner role; return the URL of its
    runtime role, the one the service connects with (as in production)."""
    upgrade(ini_path, conduit_database.owner_url_for(service))
    return conduit_database.url_for(service)


class MigratedSchema:
    """One service's schema at head and the engine a test session shares over it.

    The migrations run as the owner role, `engine` connects as the runtime role (so
    every service test runs with the privileges the service has in production), and
    `emptied()` truncates as the owner. Use it as a context manager in a session
    fixture; the engines are disposed on exit.
    """

    def __init__(self, conduit_database, service: str, ini_path, pool_size: int = 5,
                 application_name: str = "tests"):
        self.service = service
        self.url = migrated_service_url(conduit_database, service, ini_path)
        self.owner_url = conduit_database.owner_url_for(service)
        self.engine = create_db_engine(self.url, pool_size=pool_size,
                                       application_name=application_name)
        self._owner_engine = sqlalchemy.create_engine(self.owner_url, pool_size=1,
                                                      max_overflow=0)

    def emptied(self) -> sqlalchemy.Engine:
        """Truncate the schema's tables (as the owner) and return the engine, for one test."""
        postgres.truncate_schema(self._owner_engine, self.service)
        return self.engine

    def __enter__(self) -> "MigratedSchema":
        return self

    def __exit__(self, *exc_info) -> None:
        self.engine.dispose()
        self._owner_engine.dispose()


@pytest.fixture
def fake_peer():
    """A scriptable HTTP peer on 127.0.0.1 (see FakePeer), stopped after the test."""
    with FakePeer() as peer:
        yield peer


@pytest.fixture
def hanging_peer_url():
    """The URL of a peer that holds every request until the test ends."""
    with FakePeer(hang=True) as peer:
        yield peer.url


@pytest.fixture
def refused_url():
    """A URL on a local port that nothing listens on."""
    return f"http://127.0.0.1:{postgres.free_port()}"

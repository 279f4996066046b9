"""Pytest fixtures for a real Postgres; load with `pytest_plugins = [...]`.

`DATABASE_URL`, when set, is a superuser URL of a server the tests may create
databases on (CI's postgres service); otherwise a throwaway cluster is started
for the session. Each test session gets its own freshly bootstrapped database.
"""
import os

import pytest

from conduit_common.testing import postgres


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
    """Upgrade one service's schema to head with its own role; return its URL."""
    from conduit_common.migrations import upgrade

    url = conduit_database.url_for(service)
    upgrade(ini_path, url)
    return url

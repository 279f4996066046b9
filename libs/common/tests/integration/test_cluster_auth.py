"""`make run`'s cluster asks every connection for a scram-sha-256 password
(ThrowawayCluster(password_auth=True)); the tests' own clusters keep `trust`."""
import shutil
import stat

import psycopg
import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from conduit_common.testing import postgres


def connect(url, **overrides):
    url = make_url(url)
    params = dict(host=url.host, port=url.port, user=url.username, password=url.password,
                  dbname=url.database, connect_timeout=5)
    params.update(overrides)
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})


def scalar(url, sql):
    with connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def scram_cluster():
    cluster = postgres.ThrowawayCluster(password_auth=True).start()
    yield cluster
    cluster.stop()


def test_the_admin_url_carries_the_generated_password(scram_cluster):
    url = make_url(scram_cluster.admin_url)
    assert url.password and len(url.password) >= 24
    assert scalar(scram_cluster.admin_url, "SHOW password_encryption") == "scram-sha-256"
    mode = (scram_cluster.home / postgres.SUPERUSER_PASSWORD).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


@pytest.mark.parametrize("password", ["wrong-password", None])
def test_a_wrong_or_missing_password_is_refused_over_tcp_and_the_socket(scram_cluster,
                                                                        password):
    for host in ("127.0.0.1", str(scram_cluster.datadir.parent)):
        with pytest.raises(psycopg.OperationalError,
                           match="password authentication failed|no password supplied"):
            connect(scram_cluster.admin_url, host=host, password=password)


def test_the_service_roles_passwords_are_stored_as_scram_verifiers(scram_cluster):
    database = postgres.create_test_database(scram_cluster.admin_url)
    try:
        admin = make_url(scram_cluster.admin_url).set(database=database.name)
        engine = sqlalchemy.create_engine(admin)
        with engine.connect() as connection:
            stored = connection.execute(sqlalchemy.text(
                "SELECT rolname, left(rolpassword, 14) FROM pg_authid "
                "WHERE rolname LIKE 'conduit\\_%'")).all()
        engine.dispose()
        assert stored and {prefix for _, prefix in stored} == {"SCRAM-SHA-256$"}
        for service in postgres.SERVICES:
            assert scalar(database.url_for(service), "SELECT current_user") == f"conduit_{service}"
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                connect(database.url_for(service), password="not-" + database.passwords[service])
    finally:
        postgres.drop_database(database)


def test_a_cluster_made_with_trust_switches_to_passwords_on_its_next_start():
    """A `.run/pg` made by an older `make run` (trust): the next start sets a superuser
    password, rewrites pg_hba.conf and keeps the data."""
    old = postgres.ThrowawayCluster().start()
    home = old.home
    try:
        assert make_url(old.admin_url).password is None
        assert scalar(old.admin_url, "SELECT 1") == 1
        old._run("pg_ctl", "-D", str(old.datadir), "-m", "fast", "-w", "stop")

        cluster = postgres.ThrowawayCluster(datadir=home, port=old.port,
                                            password_auth=True).start()
        try:
            assert make_url(cluster.admin_url).password
            assert scalar(cluster.admin_url, "SELECT 1") == 1
            with pytest.raises(psycopg.OperationalError, match="password"):
                connect(cluster.admin_url, password=None)
            assert (cluster.datadir / "pg_hba.conf").read_text() == postgres.SCRAM_HBA
        finally:
            cluster.stop()
        # Started again: the same password, nothing to switch.
        again = postgres.ThrowawayCluster(datadir=home, port=old.port, password_auth=True)
        assert again.admin_url == cluster.admin_url
        again.start()
        try:
            assert scalar(again.admin_url, "SELECT 1") == 1
        finally:
            again.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)

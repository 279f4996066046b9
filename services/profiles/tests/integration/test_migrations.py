"""The profiles migrations, run as the schema's owner role on a fresh database."""
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conduit_common.migrations import downgrade, upgrade
from conduit_common.testing import postgres
from conduit_profiles.models import metadata

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


@pytest.fixture
def fresh_database(postgres_admin_url):
    """A bootstrapped database of its own, so downgrading cannot disturb other tests."""
    database = postgres.create_test_database(postgres_admin_url)
    yield database
    postgres.drop_database(database)


def _query(url: str, sql: str):
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql)).all()
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    return {row[0] for row in _query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'profiles'")}


def test_upgrade_creates_the_tables_owned_by_the_owner_role(fresh_database):
    url = fresh_database.owner_url_for("profiles")

    upgrade(ALEMBIC_INI, url)

    assert _tables(url) == {"follows", "users", "projection_positions", "outbox",
                            "outbox_consumers", "outbox_horizon", "alembic_version"}
    owners = _query(url, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'profiles'")
    assert owners == [("conduit_profiles_owner",)]


def test_the_runtime_role_has_dml_on_every_table_and_reads_the_version_table(
        fresh_database):
    upgrade(ALEMBIC_INI, fresh_database.owner_url_for("profiles"))
    url = fresh_database.url_for("profiles")
    rows = _query(url, "SELECT t.tablename, p.name FROM pg_tables t, unnest(ARRAY["
                       "'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', "
                       "'TRIGGER']) AS p(name) WHERE t.schemaname = 'profiles' "
                       "AND has_table_privilege('profiles.' || t.tablename, p.name)")
    held = {}
    for table, privilege in rows:
        held.setdefault(table, set()).add(privilege)
    dml = {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert held == {name: {"SELECT"} if name == "alembic_version" else dml
                    for name in _tables(url)}


def test_upgrade_creates_the_followee_index(fresh_database):
    url = fresh_database.owner_url_for("profiles")

    upgrade(ALEMBIC_INI, url)

    indexes = {row[0] for row in _query(
        url, "SELECT indexname FROM pg_indexes WHERE schemaname = 'profiles'")}
    assert {"pk_follows", "ix_follows_followee_id"} <= indexes


def test_migrated_schema_matches_the_models(fresh_database):
    upgrade(ALEMBIC_INI, fresh_database.owner_url_for("profiles"))
    engine = sqlalchemy.create_engine(fresh_database.url_for("profiles"))
    try:
        with engine.connect() as connection:
            # The role's search_path is its schema, which Alembic reports as None.
            context = MigrationContext.configure(connection, opts={
                "include_schemas": True,
                "include_name": lambda name, type_, parents: (
                    type_ != "schema" or name in (None, "profiles"))})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_downgrade_to_base_drops_the_tables_and_upgrade_restores_them(fresh_database):
    url = fresh_database.owner_url_for("profiles")
    upgrade(ALEMBIC_INI, url)

    downgrade(ALEMBIC_INI, url)

    assert _tables(url) == {"alembic_version"}
    upgrade(ALEMBIC_INI, url)
    assert "follows" in _tables(url)


def test_profiles_roles_cannot_touch_another_services_schema(fresh_database):
    for url in (fresh_database.url_for("profiles"), fresh_database.owner_url_for("profiles")):
        with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
            _query(url, "CREATE TABLE auth.intruder (id int)")

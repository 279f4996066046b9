"""Alembic: upgrade head and downgrade base, run as the schema's owner role; the
service's runtime role then uses the tables and changes nothing."""
import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conduit_auth.models import metadata
from conduit_common.migrations import alembic_config, downgrade, upgrade
from conduit_common.testing import postgres


@pytest.fixture
def fresh_database(postgres_admin_url):
    """A database of its own: these tests drop the schema's tables."""
    database = postgres.create_test_database(postgres_admin_url)
    yield database
    postgres.drop_database(database)


def tables_in_auth(url: str) -> dict[str, str]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'auth'"))
            return dict(rows.all())
    finally:
        engine.dispose()


def include_only_auth(name, type_, parent_names) -> bool:
    if type_ == "schema":
        return name in (None, "auth")
    return not (type_ == "table" and name == "alembic_version")


def test_upgrade_head_creates_users_and_outbox_owned_by_the_owner_role(
        fresh_database, alembic_ini):
    url = fresh_database.owner_url_for("auth")

    upgrade(alembic_ini, url)

    assert tables_in_auth(url) == {name: "conduit_auth_owner" for name in (
        "users", "outbox", "outbox_consumers", "outbox_horizon", "login_failures",
        "alembic_version")}


def test_downgrade_base_removes_everything_but_the_version_table(fresh_database, alembic_ini):
    url = fresh_database.owner_url_for("auth")
    upgrade(alembic_ini, url)

    downgrade(alembic_ini, url)

    assert tables_in_auth(url) == {"alembic_version": "conduit_auth_owner"}
    upgrade(alembic_ini, url)  # and the way back up still works
    assert "users" in tables_in_auth(url)


def test_the_migrated_schema_matches_the_models(fresh_database, alembic_ini):
    upgrade(alembic_ini, fresh_database.owner_url_for("auth"))
    engine = sqlalchemy.create_engine(fresh_database.url_for("auth"))

    with engine.connect() as connection:
        # The role's search_path makes auth the default schema, which Alembic
        # reports as None (and then fails to recognise its own version table).
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "version_table_schema": "auth",
            "include_name": include_only_auth})
        differences = compare_metadata(context, metadata)
    engine.dispose()

    assert differences == []


def test_autogenerate_through_env_py_finds_nothing_to_do(fresh_database, alembic_ini):
    url = fresh_database.owner_url_for("auth")
    upgrade(alembic_ini, url)

    command.check(alembic_config(alembic_ini, url))


def test_the_auth_roles_cannot_touch_other_schemas(fresh_database, alembic_ini):
    upgrade(alembic_ini, fresh_database.owner_url_for("auth"))
    for url in (fresh_database.url_for("auth"), fresh_database.owner_url_for("auth")):
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied"):
                connection.execute(sqlalchemy.text("CREATE TABLE profiles.intruder (id int)"))
        engine.dispose()


@pytest.mark.parametrize("statement", [
    "DROP TABLE users", "ALTER TABLE users ADD COLUMN intruder int", "TRUNCATE outbox",
    "DROP TRIGGER outbox_notify ON outbox", "CREATE TABLE intruder (id int)",
    "UPDATE alembic_version SET version_num = 'x'"])
def test_the_runtime_role_cannot_change_what_the_migrations_made(
        fresh_database, alembic_ini, statement):
    upgrade(alembic_ini, fresh_database.owner_url_for("auth"))
    engine = sqlalchemy.create_engine(fresh_database.url_for("auth"))
    try:
        with engine.begin() as connection:
            with pytest.raises(sqlalchemy.exc.ProgrammingError,
                               match="permission denied|must be owner"):
                connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()

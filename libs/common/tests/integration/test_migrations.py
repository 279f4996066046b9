"""The shared Alembic env: schema-local version table, advisory lock, downgrade, and
the owner role (MIGRATE_DATABASE_URL) doing what the runtime role may not."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url

from conduit_common.migrations import downgrade, upgrade

INI = Path(__file__).parent / "sample_migrations" / "alembic.ini"


def tables(url, schema):
    engine = sqlalchemy.create_engine(url)
    try:
        return set(sqlalchemy.inspect(engine).get_table_names(schema=schema))
    finally:
        engine.dispose()


def test_version_table_lives_in_the_service_schema(conduit_database):
    url = conduit_database.owner_url_for("auth")
    upgrade(INI, url)
    try:
        assert tables(url, "auth") == {"alembic_version", "sample"}
        admin_url = make_url(conduit_database.admin_url).set(database=conduit_database.name)
        assert "alembic_version" not in tables(admin_url, "public")
    finally:
        downgrade(INI, url)


def test_downgrade_base_removes_what_upgrade_made(conduit_database):
    url = conduit_database.owner_url_for("auth")
    upgrade(INI, url)
    downgrade(INI, url)
    assert tables(url, "auth") == {"alembic_version"}


def test_concurrent_upgrades_all_succeed_and_apply_once(conduit_database):
    # Separate processes, as three replicas' init containers would be.
    url = conduit_database.owner_url_for("auth")
    command = [sys.executable, "-m", "alembic", "-c", str(INI), "upgrade", "head"]
    runs = [subprocess.Popen(command, env={**os.environ, "MIGRATE_DATABASE_URL": url},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [run.communicate(timeout=60)[0].decode() for run in runs]
    try:
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(
                sqlalchemy.text("SELECT version_num FROM auth.alembic_version")).scalars().all()
        engine.dispose()
        assert versions == ["0001"]
    finally:
        downgrade(INI, url)


def test_the_runtime_role_cannot_migrate(conduit_database):
    # Refused at its first step: creating the version table, or reading it if it exists.
    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="permission denied for"):
        upgrade(INI, conduit_database.url_for("auth"))


def test_the_runtime_role_uses_the_tables_and_only_reads_the_version_table(conduit_database):
    upgrade(INI, conduit_database.owner_url_for("auth"))
    engine = sqlalchemy.create_engine(conduit_database.url_for("auth"))
    try:
        with engine.begin() as connection:   # the default privileges reached `sample`
            connection.execute(sqlalchemy.text("INSERT INTO auth.sample VALUES (1)"))
            connection.execute(sqlalchemy.text("DELETE FROM auth.sample"))
            version = connection.execute(sqlalchemy.text(
                "SELECT version_num FROM auth.alembic_version")).scalar_one()
        assert version == "0001"
        for statement in ("UPDATE auth.alembic_version SET version_num = 'x'",
                          "DELETE FROM auth.alembic_version",
                          "INSERT INTO auth.alembic_version VALUES ('x')"):
            with pytest.raises(sqlalchemy.exc.ProgrammingError,
                               match="permission denied for table alembic_version"):
                with engine.begin() as connection:
                    connection.execute(sqlalchemy.text(statement))
    finally:
        engine.dispose()
        downgrade(INI, conduit_database.owner_url_for("auth"))


def test_an_upgrade_at_head_changes_nothing_even_as_the_runtime_role(conduit_database):
    """What a previous release's `migrate` (DATABASE_URL, the runtime role) does after a
    rollback: it reads the version, finds head, and succeeds without a change."""
    upgrade(INI, conduit_database.owner_url_for("auth"))
    try:
        upgrade(INI, conduit_database.url_for("auth"))
    finally:
        downgrade(INI, conduit_database.owner_url_for("auth"))


def test_migrate_wants_the_owner_url_and_never_falls_back_to_database_url(conduit_database):
    env = {k: v for k, v in os.environ.items() if k != "MIGRATE_DATABASE_URL"}
    env["DATABASE_URL"] = conduit_database.owner_url_for("auth")
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(INI), "upgrade", "head"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "MIGRATE_DATABASE_URL is required" in result.stderr

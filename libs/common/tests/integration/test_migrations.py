"""The shared Alembic env: schema-local version table, advisory lock, downgrade."""
import os
import subprocess
import sys
from pathlib import Path

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
    url = conduit_database.url_for("auth")
    upgrade(INI, url)
    try:
        assert tables(url, "auth") == {"alembic_version", "sample"}
        admin_url = make_url(conduit_database.admin_url).set(database=conduit_database.name)
        assert "alembic_version" not in tables(admin_url, "public")
    finally:
        downgrade(INI, url)


def test_downgrade_base_removes_what_upgrade_made(conduit_database):
    url = conduit_database.url_for("auth")
    upgrade(INI, url)
    downgrade(INI, url)
    assert tables(url, "auth") == {"alembic_version"}


def test_concurrent_upgrades_all_succeed_and_apply_once(conduit_database):
    # Separate processes, as three replicas' init containers would be.
    url = conduit_database.url_for("auth")
    command = [sys.executable, "-m", "alembic", "-c", str(INI), "upgrade", "head"]
    runs = [subprocess.Popen(command, env={**os.environ, "DATABASE_URL": url},
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

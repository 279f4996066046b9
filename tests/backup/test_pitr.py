"""Point-in-time recovery of make run's cluster: WAL archive under the run directory,
a base backup, then recovery to a moment between two writes."""
import dataclasses
import time
from datetime import datetime, timezone

import sqlalchemy
from conduit_dev import backup, database


def execute(url, sql, **params):
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(sqlalchemy.text(sql), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def test_recovery_to_a_time_between_two_writes(config):
    config = dataclasses.replace(config, wal_archive=True)
    with database.private_cluster(config) as admin_url:
        assert execute(admin_url, "SHOW archive_mode") == [("on",)]
        execute(admin_url, "CREATE TABLE notes (body text NOT NULL)")
        cluster = backup._private(config)
        base = backup.base_backup(cluster)
        execute(admin_url, "INSERT INTO notes VALUES ('first')")
        time.sleep(1.1)
        (target,) = execute(admin_url, "SELECT now()")[0]
        time.sleep(1.1)
        execute(admin_url, "INSERT INTO notes VALUES ('second')")
        assert execute(admin_url, "SELECT body FROM notes ORDER BY 1") == [("first",), ("second",)]
        backup.wait_archived(admin_url)
    assert target.tzinfo is not None and target < datetime.now(timezone.utc)

    cluster = backup._private(config)
    kept = backup.recover_to(cluster, target)
    try:
        assert execute(cluster.admin_url, "SELECT body FROM notes") == [("first",)]
        # Promoted and writable, archiving on the new timeline, recovery settings gone.
        assert execute(cluster.admin_url, "SELECT pg_is_in_recovery()") == [(False,)]
        execute(cluster.admin_url, "INSERT INTO notes VALUES ('after')")
        settings = (cluster.datadir / "postgresql.auto.conf").read_text()
        assert "recovery_target_time" not in settings and "archive_mode = 'on'" in settings
        assert base.parent.name == backup.BASE_DIR
        assert (kept / "PG_VERSION").exists(), "the replaced data directory is kept"
    finally:
        cluster.stop()
    # A restart does not recover again: the data stays as promoted.
    with database.private_cluster(config) as admin_url:
        assert execute(admin_url, "SELECT body FROM notes ORDER BY 1") == [("after",), ("first",)]

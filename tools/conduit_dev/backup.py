"""Backups of the local stack's database: logical (pg_dump + manifest) and PITR.

    python -m conduit_dev.backup backup [--file F]    one consistent pg_dump + F.manifest.json
    python -m conduit_dev.backup restore F            into the stopped stack's database
    python -m conduit_dev.backup basebackup           a base backup for point-in-time recovery
    python -m conduit_dev.backup pitr --target-time T the private cluster as it was at T

The server is the stack's: DATABASE_URL (a superuser URL, e.g. compose's postgres)
or make run's private cluster under RUN_DIR/pg (started for the operation when it is
not running; `restore` and `pitr` refuse while it runs). Point-in-time recovery needs
WAL archiving (CONDUIT_WAL_ARCHIVE=1 for make run): see docs/operations.md.
"""
import argparse
import hashlib
import json
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

from conduit_common.db import libpq_url
from conduit_common.testing import postgres

from conduit_dev import credentials, database
from conduit_dev.config import SERVICES, StackConfig

FORMAT = "conduit-backup/1"
# Positions in the event feeds are transaction ids of one physical cluster. A logical
# restore starts another transaction history, so it empties the outboxes and the
# projections' positions: every projection rebuilds from its owner's snapshot.
RESET_SQL = Path(__file__).with_name("after_logical_restore.sql")
ARCHIVE_DIR = "wal-archive"
BASE_DIR = "base-backups"


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def _db_url(admin_url: str, dbname: str) -> str:
    return make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private(config: StackConfig) -> postgres.ThrowawayCluster:
    # Its superuser password (make run's cluster asks for one) comes from run_dir/pg.
    return postgres.ThrowawayCluster(datadir=config.run_dir / "pg", port=config.pg_port)


def _running(cluster: postgres.ThrowawayCluster) -> bool:
    try:
        database._refuse_if_running(cluster)
    except RuntimeError:
        return True
    return False


@contextmanager
def server(config: StackConfig, must_be_stopped: bool = False):
    """The admin URL of the stack's server; the private cluster started if need be."""
    if config.admin_url:
        yield config.admin_url
        return
    cluster = _private(config)
    if _running(cluster):
        if must_be_stopped:
            raise RuntimeError(f"the stack's postgres runs on {cluster.home}: stop `make run` "
                               "first")
        yield cluster.admin_url
        return
    with database.private_cluster(config) as admin_url:
        yield admin_url


def _tables(connection) -> list[str]:
    rows = connection.execute(sqlalchemy.text(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema = ANY(:schemas) AND table_type = 'BASE TABLE' ORDER BY 1"),
        {"schemas": list(SERVICES)})
    return [row[0] for row in rows]


def _state(connection) -> tuple[dict, dict]:
    """Alembic revision per schema and rows per table, as this transaction sees them."""
    tables = _tables(connection)
    counts = {t: connection.execute(sqlalchemy.text(f"SELECT count(*) FROM {t}")).scalar_one()
              for t in tables}
    versions = {}
    for schema in SERVICES:
        if f"{schema}.alembic_version" in counts:
            versions[schema] = connection.execute(sqlalchemy.text(
                f"SELECT version_num FROM {schema}.alembic_version")).scalar()
    return versions, counts


def backup(config: StackConfig, file: Path | None = None) -> Path:
    """One pg_dump (custom format) and its manifest, from one exported snapshot."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    file = Path(file or config.run_dir / "backups" / f"{config.db_name}-{stamp}.dump").resolve()
    file.parent.mkdir(parents=True, exist_ok=True)
    with server(config) as admin_url:
        engine = sqlalchemy.create_engine(_db_url(admin_url, config.db_name))
        try:
            with engine.connect().execution_options(
                    isolation_level="REPEATABLE READ") as connection:
                snapshot = connection.execute(
                    sqlalchemy.text("SELECT pg_export_snapshot()")).scalar_one()
                taken_at, server_version = connection.execute(sqlalchemy.text(
                    "SELECT now(), current_setting('server_version')")).one()
                # pg_dump reads the exported snapshot: the dump and the counts below
                # are the same state of all three schemas.
                partial = file.with_name(file.name + ".partial")
                result = subprocess.run(
                    [str(postgres.find_bindir() / "pg_dump"), "--format=custom",
                     f"--snapshot={snapshot}", f"--file={partial}",
                     f"--dbname={libpq_url(admin_url, config.db_name)}"],
                    capture_output=True, text=True)
                if result.returncode != 0:
                    raise RuntimeError(f"pg_dump failed: {result.stderr}")
                versions, counts = _state(connection)
        finally:
            engine.dispose()
    partial.replace(file)
    manifest = {
        "format": FORMAT, "taken_at": taken_at.isoformat(), "database": config.db_name,
        "server_version": server_version, "schema_versions": versions,
        "row_counts": counts, "file": file.name, "bytes": file.stat().st_size,
        "sha256": _sha256(file),
    }
    manifest_path(file).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return file


def read_manifest(file: Path) -> dict:
    path = manifest_path(file)
    if not path.exists():
        raise RuntimeError(f"{path} is missing: restore only backups made by `make backup`")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise RuntimeError(f"{path}: unknown format {manifest.get('format')!r}")
    if _sha256(file) != manifest["sha256"]:
        raise RuntimeError(f"{file} does not match its manifest (sha256): damaged or replaced")
    return manifest


def restore(config: StackConfig, file: Path, environ=None) -> dict:
    """Recreate the database from db/ (roles, schemas), load the dump, check it."""
    environ = os.environ if environ is None else environ
    file = Path(file).resolve()
    manifest = read_manifest(file)
    passwords = credentials.db_passwords(config.run_dir, environ)
    with server(config, must_be_stopped=True) as admin_url:
        postgres.wait_for_server(admin_url)
        admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(sqlalchemy.text(
                    f'DROP DATABASE IF EXISTS "{config.db_name}" WITH (FORCE)'))
        finally:
            admin.dispose()
        # The one bootstrap (db/bootstrap.sh): database, roles with this stack's
        # passwords, schemas, grants. The dump brings the schemas' content.
        postgres.bootstrap(admin_url, config.db_name, passwords)
        result = subprocess.run(
            [str(postgres.find_bindir() / "pg_restore"), "--clean", "--if-exists",
             "--exit-on-error", "--single-transaction",
             f"--dbname={libpq_url(admin_url, config.db_name)}", str(file)],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pg_restore failed: {result.stderr}")
        # Once more, now over the restored objects: a dump from before the owner/runtime
        # split brings tables owned by the runtime roles, and the bootstrap hands them
        # to the owner roles (and re-grants the runtime roles' DML).
        postgres.bootstrap(admin_url, config.db_name, passwords)
        engine = sqlalchemy.create_engine(_db_url(admin_url, config.db_name))
        try:
            with engine.connect() as connection:
                versions, counts = _state(connection)
                if (versions, counts) != (manifest["schema_versions"], manifest["row_counts"]):
                    raise RuntimeError(
                        f"restored database differs from the manifest: versions {versions} "
                        f"vs {manifest['schema_versions']}, counts {counts} vs "
                        f"{manifest['row_counts']}")
                connection.execute(sqlalchemy.text(RESET_SQL.read_text()))
                connection.commit()
        finally:
            engine.dispose()
    return manifest


# --- point-in-time recovery of the private cluster ---------------------------------

def _server_user(cluster: postgres.ThrowawayCluster):
    return cluster._runas  # the `postgres` user when we are root, else None (ourselves)


def _chown(path: Path, cluster: postgres.ThrowawayCluster) -> None:
    user = _server_user(cluster)
    if user is not None:
        postgres._chown_tree(path, user)


def archive_dir(cluster: postgres.ThrowawayCluster) -> Path:
    """Next to the data directory (reachable by the server user): RUN_DIR/pg/wal-archive."""
    return cluster.datadir.parent / ARCHIVE_DIR


def enable_wal_archiving(cluster: postgres.ThrowawayCluster) -> None:
    """archive_mode on, every finished WAL segment copied to archive_dir (restarts once)."""
    archive = archive_dir(cluster)
    archive.mkdir(exist_ok=True)
    _chown(archive, cluster)
    target = shlex.quote(str(archive))
    engine = sqlalchemy.create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            run = connection.exec_driver_sql
            run("ALTER SYSTEM SET archive_mode = on")
            # %% : the driver formats the statement (%f, %p reach the server as such).
            run("ALTER SYSTEM SET archive_command = "
                f"'test ! -f {target}/%%f && cp %%p {target}/%%f'")
            # A quiet `make run` still archives a partial segment this often.
            run("ALTER SYSTEM SET archive_timeout = '60s'")
            run("SELECT pg_reload_conf()")
            active = connection.exec_driver_sql("SHOW archive_mode").scalar_one()
    finally:
        engine.dispose()
    if active != "on":  # archive_mode needs a restart
        cluster.stop()
        cluster.start()


def wait_archived(admin_url: str, timeout: float = 30.0) -> str:
    """Switch to a new WAL segment and wait until the previous one is archived."""
    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            segment = connection.exec_driver_sql(
                "SELECT pg_walfile_name(pg_switch_wal())").scalar_one()
            deadline = time.monotonic() + timeout
            while True:
                archived = connection.exec_driver_sql(
                    "SELECT last_archived_wal FROM pg_stat_archiver").scalar()
                if archived and archived >= segment:
                    return segment
                if time.monotonic() > deadline:
                    raise TimeoutError(f"WAL segment {segment} was not archived in {timeout} s")
                time.sleep(0.1)
    finally:
        engine.dispose()


def base_backup(cluster: postgres.ThrowawayCluster) -> Path:
    """pg_basebackup of the running cluster (WAL included) under RUN_DIR/pg/base-backups."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    parent = cluster.datadir.parent / BASE_DIR
    parent.mkdir(exist_ok=True)
    _chown(parent, cluster)
    target = parent / stamp
    user = _server_user(cluster) or pwd.getpwuid(os.geteuid())
    cluster._run("pg_basebackup", "-D", str(target), "-h", "127.0.0.1", "-p", str(cluster.port),
                 "-U", user.pw_name, "--wal-method=stream", "--checkpoint=fast")
    return target


def latest_base_backup(cluster: postgres.ThrowawayCluster, before: datetime | None) -> Path:
    """The newest base backup that finished before `before` (or the newest one)."""
    found = sorted((cluster.datadir.parent / BASE_DIR).glob("*"))
    for candidate in reversed(found):
        stamp = datetime.strptime(candidate.name, "%Y%m%dT%H%M%S%fZ").replace(
            tzinfo=timezone.utc)
        if before is None or stamp < before:
            return candidate
    raise RuntimeError("no base backup older than the target: run `make basebackup` first "
                       "(with WAL archiving on)")


def recover_to(cluster: postgres.ThrowawayCluster, target_time: datetime,
               base: Path | None = None) -> Path:
    """Replace the (stopped) cluster's data with `base` + archived WAL up to target_time.

    The old data directory is kept next to it (data.before-pitr-<stamp>). Starts the
    cluster, waits for the promotion, clears the recovery settings; leaves it running.
    """
    if target_time.tzinfo is None:
        raise ValueError("the target time needs a time zone (e.g. 2026-01-02T03:04:05+00:00)")
    if _running(cluster):
        raise RuntimeError("stop the stack first: recovery replaces the data directory")
    cluster._prepare_dirs()
    base = base or latest_base_backup(cluster, target_time)
    kept = None
    if cluster.datadir.exists():
        kept = cluster.datadir.with_name(
            "data.before-pitr-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
        cluster.datadir.rename(kept)
    shutil.copytree(base, cluster.datadir, symlinks=True)
    for stale in ("postmaster.pid", "backup_manifest"):
        (cluster.datadir / stale).unlink(missing_ok=True)
    archive = shlex.quote(str(archive_dir(cluster)))
    with open(cluster.datadir / "postgresql.auto.conf", "a") as conf:
        conf.write(f"restore_command = 'cp {archive}/%f %p'\n"
                   f"recovery_target_time = '{target_time.isoformat()}'\n"
                   "recovery_target_action = 'promote'\n")
    (cluster.datadir / "recovery.signal").touch()
    _chown(cluster.datadir, cluster)
    cluster.datadir.chmod(0o700)
    cluster.start()
    engine = sqlalchemy.create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with engine.connect() as connection:
                    if not connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar_one():
                        for name in ("restore_command", "recovery_target_time",
                                     "recovery_target_action"):
                            connection.exec_driver_sql(f"ALTER SYSTEM RESET {name}")
                        connection.exec_driver_sql("SELECT pg_reload_conf()")
                        break
            except sqlalchemy.exc.OperationalError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"recovery did not finish (see {cluster.log_file})")
            time.sleep(0.2)
    finally:
        engine.dispose()
    return kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conduit_dev.backup")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="pg_dump (custom format) + manifest")
    make.add_argument("--file", type=Path)
    load = commands.add_parser("restore", help="restore a `backup` into the stopped stack")
    load.add_argument("file", type=Path)
    commands.add_parser("basebackup", help="a base backup of make run's cluster (PITR)")
    pitr = commands.add_parser("pitr", help="recover make run's cluster to a point in time")
    pitr.add_argument("--target-time", required=True, type=datetime.fromisoformat)
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    try:
        if args.command == "backup":
            file = backup(config, args.file)
            manifest = json.loads(manifest_path(file).read_text())
            print(f"{file}\n{manifest_path(file)}\n"
                  f"{sum(manifest['row_counts'].values())} rows, versions "
                  f"{manifest['schema_versions']}")
        elif args.command == "restore":
            manifest = restore(config, args.file)
            print(f"restored {args.file} (taken {manifest['taken_at']}); projections rebuild "
                  "from their owners when the stack starts (make run)")
        elif config.admin_url:
            raise RuntimeError("basebackup/pitr work on make run's private cluster only "
                               "(unset DATABASE_URL)")
        elif args.command == "basebackup":
            cluster = _private(config)
            if not _running(cluster):
                raise RuntimeError("start the stack with CONDUIT_WAL_ARCHIVE=1 make run first")
            print(base_backup(cluster))
        else:
            kept = recover_to(_private(config), args.target_time)
            _private(config).stop()
            print(f"recovered to {args.target_time.isoformat()}; previous data kept in {kept}")
    except (RuntimeError, ValueError, postgres.PostgresUnavailable) as ex:
        print(f"{args.command}: {ex}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The stack's Postgres: a private cluster or DATABASE_URL, bootstrapped and migrated."""
import os
import subprocess
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

from conduit_common.testing import postgres

from conduit_dev.config import SERVICES, StackConfig
from conduit_dev.system import MissingProgram, apt_install


def _bindir() -> Path:
    try:
        return postgres.find_bindir()
    except postgres.PostgresUnavailable:
        if os.geteuid() != 0:
            raise
    apt_install("postgresql")
    return postgres.find_bindir()


def _refuse_if_running(cluster: postgres.ThrowawayCluster) -> None:
    """A live server on our data directory: another `make run`, or a killed one's leftover."""
    pid_file = cluster.datadir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    except PermissionError:
        pass  # alive, owned by someone else
    raise RuntimeError(
        f"a postgres (pid {pid}) already runs on {cluster.datadir}: another `make run` is "
        f"using {cluster.datadir.parent.parent} (set RUN_DIR to use another directory), or "
        f"a killed run left it behind (stop it: kill -INT {pid})")


@contextmanager
def private_cluster(config: StackConfig):
    """A cluster under run_dir/pg (kept between runs) or in a temp dir; stopped on exit.

    As root the server runs as `postgres`; when that user cannot reach run_dir (a
    checkout in a 0700 directory), run_dir/pg is a symlink to the data's real place
    under /var/lib/conduit-dev (see conduit_common.testing.postgres.reachable_dir).
    """
    _bindir()
    datadir = config.run_dir / "pg" if config.persistent_pg else None
    # make run's data is kept: fsync on. The e2e tests' temporary cluster trades it for
    # speed. Both ask every connection for a scram-sha-256 password (the superuser's
    # is generated into run_dir/pg/superuser-password on the first start).
    cluster = postgres.ThrowawayCluster(datadir=datadir, port=config.pg_port,
                                        durable=config.persistent_pg, password_auth=True)
    _refuse_if_running(cluster)
    try:
        cluster.start()
    except postgres.PostgresUnavailable as ex:
        with suppress(postgres.PostgresUnavailable):
            cluster.stop()  # a half-started server; the temp dir of a throwaway one
        raise MissingProgram(f"postgres did not start on port {config.pg_port} "
                             f"(PGPORT; see {cluster.log_file}): {ex}") from ex
    try:
        if config.wal_archive:
            from conduit_dev.backup import enable_wal_archiving
            enable_wal_archiving(cluster)
        yield cluster.admin_url
    finally:
        cluster.stop()


def migrate(database: postgres.ConduitDatabase, root: Path) -> None:
    """alembic upgrade head for every service, each as its schema's owner role (the
    services themselves get only their runtime role's URL)."""
    for service in SERVICES:
        print(f"migrating {service}", flush=True)
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["MIGRATE_DATABASE_URL"] = database.owner_url_for(service)
        result = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", f"services/{service}/alembic.ini",
             "upgrade", "head"], cwd=root, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"migrations of {service} failed:\n{result.stderr}")


def bootstrap_and_migrate(admin_url: str, config: StackConfig, passwords: dict
                          ) -> postgres.ConduitDatabase:
    postgres.wait_for_server(admin_url)
    print(f"bootstrapping database {config.db_name}", flush=True)
    try:
        database = postgres.bootstrap(admin_url, config.db_name, passwords)
    except subprocess.CalledProcessError as ex:
        raise RuntimeError(f"db/bootstrap.sh failed:\n{ex.stderr}") from ex
    migrate(database, config.root)
    return database

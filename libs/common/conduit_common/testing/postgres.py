"""A throwaway Postgres cluster for tests and `make run`, and the db/ bootstrap.

Postgres refuses to run as root, so when we are root the server runs as the
`postgres` system user (present wherever Debian's server package is installed).
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

SERVICES = ("auth", "profiles", "articles")


class PostgresUnavailable(RuntimeError):
    """No server binaries, or the cluster did not start."""


def find_bindir() -> Path:
    """PG_BINDIR, else the newest /usr/lib/postgresql/<v>/bin, else the PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    raise PostgresUnavailable(
        "Postgres server binaries not found: install postgresql (apt-get install postgresql) "
        "or set DATABASE_URL to a server you can create databases on")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCluster:
    """initdb + pg_ctl on a free port in a directory of its own."""

    def __init__(self, datadir: Path | None = None, port: int | None = None):
        self.bindir = find_bindir()
        # A directory we made for ourselves is removed again by stop().
        self._temporary = datadir is None
        self.datadir = Path(datadir or tempfile.mkdtemp(prefix="conduit-pg-")) / "data"
        self.port = port or free_port()
        self._runas = self._unprivileged_user()

    @staticmethod
    def _unprivileged_user():
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as ex:
            raise PostgresUnavailable("running as root needs a 'postgres' system user") from ex

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._runas is not None:
            command = ["runuser", "-u", self._runas.pw_name, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed: {result.stderr or result.stdout}")

    def _prepare_dirs(self) -> None:
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        if self._runas is not None:
            os.chown(self.datadir.parent, self._runas.pw_uid, self._runas.pw_gid)

    @property
    def admin_url(self) -> str:
        user = self._runas.pw_name if self._runas else pwd.getpwuid(os.geteuid()).pw_name
        return f"postgresql+psycopg2://{user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> "ThrowawayCluster":
        self._prepare_dirs()
        if not (self.datadir / "PG_VERSION").exists():
            self._run("initdb", "-D", str(self.datadir), "-A", "trust", "-U",
                      self._runas.pw_name if self._runas else pwd.getpwuid(os.geteuid()).pw_name,
                      "--encoding", "UTF8", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories='{self.datadir.parent}' -c fsync=off "
                   f"-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-w", "-t", "30",
                  "-l", str(self.datadir.parent / "postgres.log"), "start")
        return self

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        if self._temporary:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)


@dataclass(frozen=True)
class ConduitDatabase:
    """A bootstrapped database: the admin URL and each service role's URL."""

    admin_url: str
    name: str
    passwords: dict

    def url_for(self, service: str) -> str:
        url = make_url(self.admin_url).set(
            drivername="postgresql+psycopg2", username=f"conduit_{service}",
            password=self.passwords[service], database=self.name)
        return url.render_as_string(hide_password=False)


def repo_root() -> Path:
    """The checkout this package is installed from (editable installs only)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "db" / "bootstrap.sh").exists():
            return parent
    raise FileNotFoundError("db/bootstrap.sh not found above " + __file__)


def bootstrap(admin_url: str, name: str = "conduit", passwords: dict | None = None
              ) -> ConduitDatabase:
    """Run db/bootstrap.sh against a server: database, roles, schemas."""
    passwords = passwords or {svc: f"dev-{svc}-password" for svc in SERVICES}
    url = make_url(admin_url)
    env = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "PGUSER": url.username or "postgres", "PGDATABASE": url.database or "postgres",
           "CONDUIT_DB": name}
    if url.password:
        env["PGPASSWORD"] = url.password
    env.update({f"{svc.upper()}_DB_PASSWORD": pw for svc, pw in passwords.items()})
    subprocess.run([str(repo_root() / "db" / "bootstrap.sh")], env=env, check=True,
                   capture_output=True, text=True)
    return ConduitDatabase(admin_url=admin_url, name=name, passwords=passwords)


def create_test_database(admin_url: str) -> ConduitDatabase:
    name = f"conduit_test_{uuid.uuid4().hex[:10]}"
    return bootstrap(admin_url, name, {svc: f"test-{svc}-{uuid.uuid4().hex[:8]}"
                                       for svc in SERVICES})


def drop_database(database: ConduitDatabase) -> None:
    engine = sqlalchemy.create_engine(database.admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database.name}" '
                                           "WITH (FORCE)"))
    engine.dispose()


def wait_for_server(admin_url: str, timeout: float = 30.0) -> None:
    engine = sqlalchemy.create_engine(admin_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect():
                    return
            except sqlalchemy.exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        engine.dispose()


def truncate_schema(engine: sqlalchemy.Engine, schema: str) -> None:
    """Empty every table of a schema except Alembic's version table."""
    inspector = sqlalchemy.inspect(engine)
    tables = [t for t in inspector.get_table_names(schema=schema) if t != "alembic_version"]
    if tables:
        names = ", ".join(f'"{schema}"."{t}"' for t in tables)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

"""A throwaway Postgres cluster for tests and `make run`, and the db/ bootstrap.

Per service the bootstrap makes two roles (db/bootstrap.sql): the owner
`conduit_<svc>_owner`, which migrations use, and the DML-only runtime role
`conduit_<svc>` of the API and its projector. `ConduitDatabase` hands out both URLs.

Postgres refuses to run as root, so when we are root the server runs as the
`postgres` system user (present wherever Debian's server package is installed).
That user must reach its data directory: when a checkout sits in a private directory
(root's home, `mktemp -d`), the data lives under SYSTEM_STATE_DIR instead and the
directory the caller asked for becomes a symlink to it (see `reachable_dir`).
"""
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from psycopg import sql as psycopg_sql
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

SERVICES = ("auth", "profiles", "articles")


def runtime_role(service: str) -> str:
    """The role the API and the projector connect as: DML in its schema, nothing else."""
    return f"conduit_{service}"


def owner_role(service: str) -> str:
    """The role that owns the service's schema: migrations only."""
    return f"conduit_{service}_owner"


def password_keys() -> tuple[str, ...]:
    """The keys of a passwords dict: `<svc>` (runtime role), `<svc>_owner` (owner)."""
    return tuple(key for svc in SERVICES for key in (svc, f"{svc}_owner"))


def password_variable(key: str) -> str:
    """The environment variable db/bootstrap.sh reads for a password key:
    auth -> AUTH_DB_PASSWORD, auth_owner -> AUTH_DB_OWNER_PASSWORD."""
    service, _, owner = key.partition("_")
    return f"{service.upper()}_DB_{'OWNER_' if owner else ''}PASSWORD"


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


# Where a server user's directories go when it cannot reach the ones asked for.
SYSTEM_STATE_DIR = Path("/var/lib/conduit-dev")
# In each such directory: the path of the symlink that points to it.
OWNER_FILE = ".conduit-home"


def user_can_reach(user: pwd.struct_passwd, path: Path) -> bool:
    """Whether `user` may search every directory down to `path` (an existing directory)."""
    if os.geteuid() != 0:
        return os.access(path, os.X_OK)
    result = subprocess.run(["runuser", "-u", user.pw_name, "--", "test", "-x", str(path)],
                            stdin=subprocess.DEVNULL, capture_output=True)
    return result.returncode == 0


def _chown_tree(path: Path, user: pwd.struct_passwd) -> None:
    os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
    for parent, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(parent, name), user.pw_uid, user.pw_gid, follow_symlinks=False)


def system_dir_for(home: Path, root: Path = SYSTEM_STATE_DIR) -> Path:
    """The directory under `root` that stands in for `home` (one per absolute path)."""
    home = Path(os.path.realpath(home.parent)) / home.name
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return root / f"{home.name.lstrip('.') or 'dir'}-{digest}"


def reachable_dir(home: Path, user: pwd.struct_passwd, root: Path = SYSTEM_STATE_DIR) -> Path:
    """A directory owned by `user` that `user` can reach, standing for `home`; its path.

    `home` itself (created, chowned) when `user` can reach it. Otherwise (root running a
    server as another user from a checkout in a 0700 directory) a directory under `root`
    (mode 0700, owned by `user`), and `home` becomes a symlink to it, so that `home`
    stays the place to look. What `home` held moves there. A symlink made earlier is
    followed (its target recreated if it was removed); a directory under `root` whose
    symlink is gone is stale (the run directory was deleted) and starts afresh.
    """
    if home.is_symlink():
        real = Path(os.path.realpath(home))
        if not real.is_dir():
            real.mkdir(mode=0o700, parents=True)
            os.chown(real, user.pw_uid, user.pw_gid)
        return real
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, user.pw_uid, user.pw_gid)
    if user_can_reach(user, home):
        return home
    real = system_dir_for(home, root)
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    if real.exists():
        shutil.rmtree(real)
    real.mkdir(mode=0o700)
    for entry in home.iterdir():
        shutil.move(str(entry), str(real / entry.name))
    (real / OWNER_FILE).write_text(f"{Path(os.path.realpath(home.parent)) / home.name}\n")
    _chown_tree(real, user)
    home.rmdir()
    home.symlink_to(real, target_is_directory=True)
    return real


# password_auth clusters: where the superuser's password is kept (in `home`), and the
# only pg_hba.conf they have: a scram-sha-256 password for everyone, socket and TCP.
SUPERUSER_PASSWORD = "superuser-password"
SCRAM_HBA = """\
# Written by conduit_common.testing.postgres (password_auth): every connection, over
# the socket or TCP, proves a password with scram-sha-256. Restored on each start.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
local   replication     all                                     scram-sha-256
host    replication     all             127.0.0.1/32            scram-sha-256
host    replication     all             ::1/128                 scram-sha-256
"""


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (created 0600, never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThrowawayCluster:
    """initdb + pg_ctl on a free port in a directory of its own.

    `home` (the `datadir` argument, else a new temporary directory) holds the cluster
    in `data/`, its socket and `postgres.log`. When root, the server runs as `postgres`
    and `start()` moves `home` where that user can reach it (`reachable_dir`), so
    `datadir` is the real path after `start()`, and `home / "postgres.log"` the log.

    `durable=False` (tests) runs with fsync off: fast, but a crash of the machine can
    lose acknowledged commits or corrupt the cluster. `durable=True` (`make run`'s
    cluster, which keeps its data) leaves fsync and full_page_writes on.

    Authentication: `trust` for every local connection (the tests' clusters: fast, and
    nothing of value in them) unless `password_auth=True` (`make run`'s cluster):
    then pg_hba.conf asks every connection, socket or TCP, for a scram-sha-256
    password. The superuser's is generated at initdb into `home / SUPERUSER_PASSWORD`
    (mode 0600) and `admin_url` carries it; a cluster made with `trust` earlier is
    switched over on its next start. A cluster object made without the flag on a
    `home` that has the file (make backup, the backup tests) uses it as well.
    """

    def __init__(self, datadir: Path | None = None, port: int | None = None,
                 durable: bool = False, password_auth: bool = False):
        self.durable = durable
        self.password_auth = password_auth
        self.bindir = find_bindir()
        # A directory we made for ourselves is removed again by stop().
        self._temporary = datadir is None
        self.home = Path(datadir or tempfile.mkdtemp(prefix="conduit-pg-"))
        self.datadir = self.home / "data"
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
        cwd = None
        env = dict(os.environ)
        if self.superuser_password:
            env["PGPASSWORD"] = self.superuser_password  # pg_basebackup and the like
        if self._runas is not None:
            command = ["runuser", "-u", self._runas.pw_name, "--", *command]
            cwd = "/"  # ours may be a directory that user cannot enter (every path is absolute)
        result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)
        if result.returncode != 0:
            output = "\n".join(filter(None, (result.stderr.strip(), result.stdout.strip())))
            raise PostgresUnavailable(f"{args[0]} failed: {output}")

    def _prepare_dirs(self) -> None:
        if self._runas is None:
            self.home.mkdir(parents=True, exist_ok=True)
            return
        if self._temporary:
            # Made by mkdtemp in TMPDIR; a private TMPDIR gets a new one in /tmp instead.
            os.chown(self.home, self._runas.pw_uid, self._runas.pw_gid)
            if not user_can_reach(self._runas, self.home):
                self.home.rmdir()
                self.home = Path(tempfile.mkdtemp(prefix="conduit-pg-", dir="/tmp"))
                os.chown(self.home, self._runas.pw_uid, self._runas.pw_gid)
            self.datadir = self.home / "data"
            return
        self.datadir = reachable_dir(self.home, self._runas) / "data"

    @property
    def log_file(self) -> Path:
        """postgres.log, by the path the caller knows (through the symlink if moved)."""
        return self.home / "postgres.log"

    @property
    def superuser(self) -> str:
        return self._runas.pw_name if self._runas else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def superuser_password(self) -> str | None:
        """The stored superuser password (password_auth clusters), else None."""
        try:
            return (self.home / SUPERUSER_PASSWORD).read_text().strip() or None
        except OSError:
            return None

    @property
    def admin_url(self) -> str:
        return sqlalchemy.URL.create(
            "postgresql+psycopg", username=self.superuser, password=self.superuser_password,
            host="127.0.0.1", port=self.port, database="postgres",
        ).render_as_string(hide_password=False)

    def start(self) -> "ThrowawayCluster":
        self._prepare_dirs()
        switch_to_scram = False
        if not (self.datadir / "PG_VERSION").exists():
            self._initdb()
        elif self.password_auth and not self._hba_is_scram():
            switch_to_scram = True  # made with trust by an older `make run`
        # Given on every start: a cluster made by an older, non-durable run gets fsync back.
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                   f"-c unix_socket_directories='{self.datadir.parent}' "
                   f"-c fsync={'on' if self.durable else 'off'} "
                   f"-c max_connections=200 -c password_encryption=scram-sha-256")
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-w", "-t", "30",
                  "-l", str(self.datadir.parent / "postgres.log"), "start")
        if switch_to_scram:
            self._switch_to_scram()
        return self

    def _initdb(self) -> None:
        auth = ["-A", "trust"]
        pwfile = None
        if self.password_auth:
            password = secrets.token_urlsafe(24)
            _write_private(self.home / SUPERUSER_PASSWORD, password + "\n")
            # Read by initdb, which runs as the server's user: next to the data, removed after.
            pwfile = self.datadir.parent / ".initdb-password"
            _write_private(pwfile, password + "\n")
            if self._runas is not None:
                os.chown(pwfile, self._runas.pw_uid, self._runas.pw_gid)
            auth = ["-A", "scram-sha-256", f"--pwfile={pwfile}"]
        try:
            self._run("initdb", "-D", str(self.datadir), *auth, "-U", self.superuser,
                      "--encoding", "UTF8", *(() if self.durable else ("--no-sync",)))
        finally:
            if pwfile is not None:
                pwfile.unlink(missing_ok=True)
        if self.password_auth:
            self._write_hba()

    def _hba_is_scram(self) -> bool:
        try:
            return (self.datadir / "pg_hba.conf").read_text() == SCRAM_HBA
        except OSError:
            return False

    def _write_hba(self) -> None:
        hba = self.datadir / "pg_hba.conf"
        hba.write_text(SCRAM_HBA)
        if self._runas is not None:
            os.chown(hba, self._runas.pw_uid, self._runas.pw_gid)

    def _switch_to_scram(self) -> None:
        """A running cluster still on its old hba (trust): give the superuser a password
        (unless it has one stored already), then ask for passwords from now on."""
        if not self.superuser_password:
            password = secrets.token_urlsafe(24)
            engine = sqlalchemy.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as connection:
                    # Utility statements take no bound parameters (psycopg binds on
                    # the server): the password goes in as a quoted literal.
                    connection.connection.driver_connection.execute(
                        psycopg_sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                            psycopg_sql.Identifier(self.superuser),
                            psycopg_sql.Literal(password)))
            except sqlalchemy.exc.OperationalError as ex:
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
                raise PostgresUnavailable(
                    f"the cluster in {self.home} asks for a password, and its superuser's "
                    f"({self.home / SUPERUSER_PASSWORD}) is missing: remove {self.home} to "
                    f"start afresh (its data goes with it)") from ex
            finally:
                engine.dispose()
            _write_private(self.home / SUPERUSER_PASSWORD, password + "\n")
        self._write_hba()
        self._run("pg_ctl", "-D", str(self.datadir), "reload")

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        if self._temporary:
            shutil.rmtree(self.home, ignore_errors=True)


@dataclass(frozen=True)
class ConduitDatabase:
    """A bootstrapped database: the admin URL and each service's two role URLs.

    `passwords` is keyed as `password_keys()`: `<svc>` for the runtime role,
    `<svc>_owner` for the owner role.
    """

    admin_url: str
    name: str
    passwords: dict

    def _url(self, role: str, password: str) -> str:
        url = make_url(self.admin_url).set(
            drivername="postgresql+psycopg", username=role, password=password,
            database=self.name)
        return url.render_as_string(hide_password=False)

    def url_for(self, service: str) -> str:
        """The runtime role's URL: what the API and the projector use (DATABASE_URL)."""
        return self._url(runtime_role(service), self.passwords[service])

    def owner_url_for(self, service: str) -> str:
        """The owner role's URL: what migrations use (MIGRATE_DATABASE_URL)."""
        return self._url(owner_role(service), self.passwords[f"{service}_owner"])


def repo_root() -> Path:
    """The checkout this package is installed from (editable installs only)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "db" / "bootstrap.sh").exists():
            return parent
    raise FileNotFoundError("db/bootstrap.sh not found above " + __file__)


def bootstrap(admin_url: str, name: str = "conduit", passwords: dict | None = None
              ) -> ConduitDatabase:
    """Run db/bootstrap.sh against a server: database, roles, schemas, grants."""
    passwords = passwords or {key: f"dev-{key}-password" for key in password_keys()}
    missing = set(password_keys()) - set(passwords)
    if missing:
        raise ValueError(f"no password for {sorted(missing)}")
    url = make_url(admin_url)
    env = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "PGUSER": url.username or "postgres", "PGDATABASE": url.database or "postgres",
           "CONDUIT_DB": name}
    if url.password:
        env["PGPASSWORD"] = url.password
    env.update({password_variable(key): passwords[key] for key in password_keys()})
    with _one_bootstrap_at_a_time(admin_url):
        subprocess.run([str(repo_root() / "db" / "bootstrap.sh")], env=env, check=True,
                       capture_output=True, text=True)
    return ConduitDatabase(admin_url=admin_url, name=name, passwords=passwords)


# Roles are cluster-wide: two bootstraps on one server at once (tests/ci runs several
# services' CI jobs against one throwaway cluster) can both find a role missing and
# both create it, and one fails. Test sessions therefore take turns, by an advisory lock
# in the admin database; a deployment bootstraps once, so db/bootstrap.sh needs none.
BOOTSTRAP_LOCK_KEY = 0x636F6E64   # "cond"


@contextmanager
def _one_bootstrap_at_a_time(admin_url: str):
    engine = sqlalchemy.create_engine(admin_url, poolclass=NullPool)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"),
                               {"key": BOOTSTRAP_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": BOOTSTRAP_LOCK_KEY})
    finally:
        engine.dispose()


def create_test_database(admin_url: str) -> ConduitDatabase:
    name = f"conduit_test_{uuid.uuid4().hex[:10]}"
    return bootstrap(admin_url, name, {key: f"test-{key}-{uuid.uuid4().hex[:8]}"
                                       for key in password_keys()})


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
    """Empty every table of a schema except Alembic's version table.

    `engine` connects as the schema's owner: TRUNCATE is no runtime privilege.
    """
    inspector = sqlalchemy.inspect(engine)
    tables = [t for t in inspector.get_table_names(schema=schema) if t != "alembic_version"]
    if tables:
        names = ", ".join(f'"{schema}"."{t}"' for t in tables)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))

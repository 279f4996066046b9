"""`make run` and the throwaway clusters of `make test` from a checkout in a 0700
directory (root's home, `mktemp -d`), as root: Postgres runs as `postgres` and nginx's
workers as `nobody`, who cannot enter such a directory, so their directories live under
/var/lib/conduit-dev (or /tmp) and .run/ holds symlinks to them.

The clone is of this repository's HEAD with the working tree's files copied over it
(the code under test, committed or not). The services themselves come from the
editable installs in .venv; what runs from the clone is the launcher and the cluster
code (tools/conduit_dev, conduit_common.testing.postgres), which is what is tested.
"""
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import requests

from conduit_common.testing.postgres import SYSTEM_STATE_DIR, free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("git") is None,
    reason="needs root (the servers drop to other users only then) and git")

# Settings of the outer environment that would point the clone's stack elsewhere.
_OUTER = ("CONDUIT_RUN_DIR", "RUN_DIR", "DATABASE_URL", "MIGRATE_DATABASE_URL",
          "PGPORT", "AUTH_DB_PASSWORD", "PROFILES_DB_PASSWORD",
          "ARTICLES_DB_PASSWORD", "AUTH_DB_OWNER_PASSWORD", "PROFILES_DB_OWNER_PASSWORD",
          "ARTICLES_DB_OWNER_PASSWORD", "TMPDIR")


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def _overlay_working_tree(clone: Path) -> None:
    """Copy the working tree's files (tracked or new, not ignored) over the clone."""
    files = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, files):
        source, target = ROOT / name, clone / name
        if source.is_symlink() or source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.exists():
                target.unlink()
            shutil.copy2(source, target, follow_symlinks=False)
        elif target.is_file():
            target.unlink()  # deleted in the working tree


def _system_dirs(clone: Path) -> list[Path]:
    """What .run/'s symlinks point to (to remove with the clone)."""
    run = clone / ".run"
    links = [run / "pg", run / "nginx" / "tmp", clone / "pg-home"]
    return [Path(os.path.realpath(link)) for link in links if link.is_symlink()]


@pytest.fixture(scope="module")
def checkout():
    parent = Path(tempfile.mkdtemp(prefix="conduit-private-"))
    assert stat.S_IMODE(parent.stat().st_mode) == 0o700
    clone = parent / "conduit"
    try:
        _git("clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
        _overlay_working_tree(clone)
        yield clone
    finally:
        for real in _system_dirs(clone):
            if real.is_relative_to(SYSTEM_STATE_DIR):
                shutil.rmtree(real, ignore_errors=True)
        shutil.rmtree(parent, ignore_errors=True)


class Run:
    """`python -m conduit_dev run` in the clone (what `make run` starts), on free ports."""

    def __init__(self, clone: Path):
        self.clone = clone
        self.ports = {name: free_port() for name in ("GATEWAY", "AUTH", "PROFILES",
                                                     "ARTICLES", "PG")}
        self.api_url = f"http://127.0.0.1:{self.ports['GATEWAY']}/flask/api"
        self.log = clone.parent / "run.log"
        self.process = None

    def env(self) -> dict:
        env = {key: value for key, value in os.environ.items() if key not in _OUTER}
        env.update({f"{name}_PORT": str(port) for name, port in self.ports.items()
                    if name != "PG"})
        # The clone's launcher and conduit_common; the services' own packages are .venv's.
        env.update(PGPORT=str(self.ports["PG"]), WEB_CONCURRENCY="1", PYTHONPATH=os.pathsep.join(
            [str(self.clone / "tools"), str(self.clone / "libs" / "common")]))
        return env

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "conduit_dev", "run"], cwd=self.clone, env=self.env(),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self._answering():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the stack did not answer at {self.api_url}:\n"
                            f"{self.output()[-4000:]}")
            time.sleep(0.3)

    def _answering(self) -> bool:
        """The gateway routes to articles (GET /tags) and to auth (GET /user: 401)."""
        try:
            return (requests.get(f"{self.api_url}/tags", timeout=2).status_code == 200
                    and requests.get(f"{self.api_url}/user", timeout=2).status_code == 401)
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """Ctrl-C, as in a terminal: SIGINT to the whole process group."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"the stack did not stop on SIGINT:\n{self.output()[-4000:]}")


def _owned_private_dir(path: Path, user: str) -> None:
    info = path.stat()
    assert pwd.getpwuid(info.st_uid).pw_name == user, path
    assert stat.S_IMODE(info.st_mode) == 0o700, path


def test_make_run_from_a_0700_checkout_keeps_its_data(checkout):
    run = Run(checkout)
    user = f"u{uuid.uuid4().hex[:8]}"
    credentials = {"email": f"{user}@example.com", "password": f"pw-{uuid.uuid4().hex}"}
    try:
        run.start()
        resp = requests.post(f"{run.api_url}/users", timeout=15,
                             json={"user": {"username": user, **credentials}})
        assert resp.status_code == 201, resp.text
        # 200 KB: nginx buffers such a body in its client_body temp dir, as `nobody`
        # (a 500 from nginx if it cannot); the service then refuses the unknown field.
        resp = requests.post(f"{run.api_url}/users/login", timeout=15, json={
            "user": {**credentials, "padding": "x" * 200_000}})
        assert resp.status_code < 500, resp.text
    finally:
        run.stop()
    assert run.process.returncode == 0, run.output()[-4000:]

    # .run/ is still where to look: symlinks to directories the servers' users own.
    pg = checkout / ".run" / "pg"
    assert pg.is_symlink() and Path(os.path.realpath(pg)).is_relative_to(SYSTEM_STATE_DIR)
    _owned_private_dir(pg.resolve(), "postgres")
    assert (pg / "data" / "PG_VERSION").exists() and (pg / "postgres.log").exists()
    assert not (pg / "data" / "postmaster.pid").exists(), "postgres left running"
    _owned_private_dir((checkout / ".run" / "nginx" / "tmp").resolve(), "nobody")

    # A second run finds the data.
    try:
        run.start()
        resp = requests.post(f"{run.api_url}/users/login", json={"user": credentials},
                             timeout=15)
        assert resp.status_code == 200, resp.text
        assert resp.json()["user"]["username"] == user
    finally:
        run.stop()
    assert run.process.returncode == 0, run.output()[-4000:]
    assert "Permission denied" not in run.output()


_CLUSTERS = textwrap.dedent("""
    import os, pathlib, sys
    from conduit_common.testing import postgres
    assert pathlib.Path(postgres.__file__).is_relative_to(pathlib.Path.cwd()), postgres.__file__
    home = pathlib.Path(sys.argv[1])
    for cluster in (postgres.ThrowawayCluster(), postgres.ThrowawayCluster(datadir=home)):
        cluster.start()
        try:
            postgres.wait_for_server(cluster.admin_url)
            print(cluster.home, cluster.datadir, flush=True)
        finally:
            cluster.stop()
""")


def test_throwaway_clusters_from_a_0700_checkout(checkout):
    """As the tests start them: in TMPDIR (here a private one), or in a given directory."""
    tmpdir = checkout / "tmp"
    tmpdir.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if key not in _OUTER}
    env.update(TMPDIR=str(tmpdir), PYTHONPATH=str(checkout / "libs" / "common"))
    result = subprocess.run([sys.executable, "-c", _CLUSTERS, str(checkout / "pg-home")],
                            cwd=checkout, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    (temp_home, temp_data), (home, data) = (line.split() for line in result.stdout.splitlines())
    # The temporary one moved out of the private TMPDIR, and is gone after stop().
    assert not Path(temp_home).is_relative_to(tmpdir) and not Path(temp_home).exists()
    # The given one is a symlink to a directory postgres owns, and kept.
    assert Path(home).is_symlink() and Path(data).is_relative_to(SYSTEM_STATE_DIR)
    _owned_private_dir(Path(data).parent, "postgres")
    assert (Path(home) / "data" / "PG_VERSION").exists()


@pytest.fixture
def public_tmp():
    """Not pytest's tmp_path: /tmp/pytest-of-root is 0700."""
    path = Path(tempfile.mkdtemp(prefix="conduit-public-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_reachable_dir_moves_a_private_home_and_follows_its_symlink(public_tmp):
    from conduit_common.testing.postgres import OWNER_FILE, reachable_dir

    nobody = pwd.getpwnam("nobody")
    private = Path(tempfile.mkdtemp(prefix="conduit-private-"))
    root = public_tmp / "system"
    try:
        home = private / ".run" / "pg"
        home.mkdir(parents=True)
        (home / "kept").write_text("from before")
        real = reachable_dir(home, nobody, root)
        assert home.is_symlink() and real.parent == root and home.resolve() == real
        assert (home / "kept").read_text() == "from before"  # moved along
        assert (real / OWNER_FILE).read_text().strip() == str(home)
        _owned_private_dir(real, "nobody")
        assert (real / "kept").stat().st_uid == nobody.pw_uid

        assert reachable_dir(home, nobody, root) == real  # the next run
        shutil.rmtree(real)
        assert reachable_dir(home, nobody, root) == real and real.is_dir()  # recreated

        (real / "stale").write_text("")
        home.unlink()  # the run directory was deleted: start afresh
        assert reachable_dir(home, nobody, root) == real
        assert not (real / "stale").exists()
    finally:
        shutil.rmtree(private, ignore_errors=True)


def test_reachable_dir_keeps_a_reachable_home(public_tmp):
    from conduit_common.testing.postgres import reachable_dir

    home = public_tmp / "pg"
    assert reachable_dir(home, pwd.getpwnam("nobody"), public_tmp / "system") == home
    assert not home.is_symlink() and not (public_tmp / "system").exists()

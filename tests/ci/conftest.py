"""Fixtures of the CI checks: gitlab-ci-local, and a throwaway git repository
holding the current work tree, whose origin/main is that tree's snapshot."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
GCL_VERSION = json.loads((ROOT / "ci" / "package.json").read_text())[
    "devDependencies"]["gitlab-ci-local"]
GCL = ROOT / "ci" / "node_modules" / ".bin" / "gitlab-ci-local"
GIT_IDENTITY = ["-c", "user.name=ci-check", "-c", "user.email=ci-check@example.invalid"]


def run(args, cwd=ROOT, env=None, check=True, timeout=600, stdin=None):
    """Run a command; on failure the assertion shows its output."""
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, input=stdin,
                            capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, (
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


def clean_env(**extra):
    """The environment of a CI job run here: nothing of this test session leaks."""
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PIP_", "CI_", "GITLAB_", "K8S_", "KOPS_", "DOCKER_"))
           and key not in {"VIRTUAL_ENV", "PYTHONPATH", "DATABASE_URL"}}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                  if part != venv_bin)
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def gitlab_ci_local():
    """ci/node_modules/.bin/gitlab-ci-local at the version ci/package.json pins."""
    if not GCL.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install gitlab-ci-local (apt-get install npm)"
        run([npm, "install", "--prefix", ROOT / "ci", "--no-package-lock", "--no-audit",
             "--no-fund", "--loglevel=error"])
    version = run([GCL, "--version"]).stdout.strip()
    assert version == GCL_VERSION, f"gitlab-ci-local {version}, expected {GCL_VERSION}"
    if not shutil.which("rsync"):
        # gitlab-ci-local copies the repository with rsync.
        assert os.geteuid() == 0, "gitlab-ci-local needs rsync: apt-get install rsync"
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "rsync"])
    return GCL


def pytest_generate_tests(metafunc):
    """A test that takes `service` runs once per service."""
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", SERVICES)


@pytest.fixture(scope="session")
def services():
    return set(SERVICES)


def git(repo, *args):
    return run(["git", *GIT_IDENTITY, *args], cwd=repo).stdout


class Sandbox:
    """A git clone of the work tree with a bare origin; gitlab-ci-local runs in it."""

    def __init__(self, path: Path, gcl: Path):
        self.path = path
        self.gcl = gcl

    def gcl_run(self, *args, check=True, timeout=600, env=None):
        return run([self.gcl, "--no-color", *args], cwd=self.path, check=check,
                   timeout=timeout, env=env or clean_env())

    def gcl_start(self, *args, output: Path):
        """Start gitlab-ci-local in the background; output and errors go to `output`.

        A file, not a pipe: with several runs at once, a pipe nobody is reading yet
        fills up, Node buffers the rest in memory, and process.exit() then drops that
        tail, summary lines included.
        """
        with open(output, "w") as sink:
            return subprocess.Popen([str(a) for a in (self.gcl, "--no-color", *args)],
                                    cwd=self.path, env=clean_env(), text=True,
                                    stdout=sink, stderr=subprocess.STDOUT)

    def jobs(self, *args, file=".gitlab-ci.yml"):
        """{job name: when} of the pipeline `--list-csv` shows (when:never left out)."""
        out = self.gcl_run("--file", file, "--list-csv", "--no-json-schema-validation",
                           *args).stdout
        rows = [line.split(";") for line in out.splitlines() if ";" in line]
        assert rows and rows[0][:3] == ["name", "stage", "when"], out
        return {row[0]: row[2] for row in rows[1:]}

    def branch(self, name, start="main"):
        git(self.path, "checkout", "-q", "-B", name, start)

    def commit_file(self, relpath, text="touched by tests/ci\n"):
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a") as fh:
            fh.write(text)
        git(self.path, "add", "--", relpath)
        git(self.path, "commit", "-q", "-m", f"change {relpath}")


def snapshot(dest: Path) -> None:
    """Copy the tracked and the untracked-but-not-ignored files of the work tree."""
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]).stdout
    files = [name for name in listed.split("\0") if name and (ROOT / name).is_file()]
    dest.mkdir(parents=True)
    run(["rsync", "-a", "--from0", "--files-from=-", f"{ROOT}/", f"{dest}/"],
        stdin="\0".join(files))


def make_sandbox(base: Path, gcl: Path, prepare=None) -> Sandbox:
    """A snapshot of the work tree committed as main in `base`/repo, pushed to a bare
    origin; `prepare(repo)` may edit the snapshot before that first commit."""
    repo = base / "repo"
    snapshot(repo)
    if prepare:
        prepare(repo)
    origin = base / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", origin])
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot of the work tree")
    git(repo, "remote", "add", "origin", origin)
    git(repo, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")
    git(repo, "remote", "set-head", "origin", "main")
    return Sandbox(repo, gcl)


@pytest.fixture(scope="session")
def new_sandbox(tmp_path_factory, gitlab_ci_local):
    """new_sandbox(name, prepare=None): a fresh sandbox in a temporary folder."""
    def create(name, prepare=None):
        return make_sandbox(tmp_path_factory.mktemp(name), gitlab_ci_local, prepare)
    return create


@pytest.fixture(scope="session")
def sandbox(new_sandbox):
    return new_sandbox("ci-sandbox")


@pytest.fixture(scope="session")
def gitlab_schema(tmp_path_factory):
    """check(name=yaml text, ...): run check-jsonschema with GitLab's CI schema once
    over all the documents given; returns its result."""
    try:
        import check_jsonschema  # noqa: F401
    except ImportError:
        pytest.fail("check-jsonschema is missing: it is in requirements-dev.txt (make install)")

    def check(**documents):
        folder = tmp_path_factory.mktemp("schema")
        paths = []
        for name, text in documents.items():
            paths.append(folder / f"{name}.yml")
            paths[-1].write_text(text)
        return run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                    "vendor.gitlab-ci", "--data-transform", "gitlab-ci", *paths], check=False)
    return check

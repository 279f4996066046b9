"""The stack under test: started once per session with the launcher `make run` uses
(tools/conduit_dev) on free ports, or an already running gateway at CONDUIT_BASE_URL
(e.g. the docker-compose stack; tests that need the processes' logs are skipped then).
"""
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from conduit_common.testing.otlp_sink import OtlpSink  # noqa: E402
from conduit_common.testing.postgres import free_port  # noqa: E402
from conduit_dev import processes  # noqa: E402
from conduit_dev.config import DEFAULT_PORTS, StackConfig  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "postman: the official RealWorld suite via newman")
    config.addinivalue_line("markers", "exhausts_login_limit: runs last (uses up the login "
                                       "and registration rate limits of its client address)")
    config.addinivalue_line("markers", "fuzz: generated requests from docs/openapi.yml")


def pytest_collection_modifyitems(session, config, items):
    """The Postman suite first, on an empty database (its assertion count depends on the
    articles present: 311 on an empty one); the login limit exhausted last."""
    def rank(item) -> int:
        if item.get_closest_marker("postman"):
            return 0
        return 2 if item.get_closest_marker("exhausts_login_limit") else 1
    items.sort(key=rank)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    summary = getattr(config, "conduit_newman_summary", None)
    if summary:
        terminalreporter.write_sep("=", summary)


class ExternalStack:
    """A gateway somebody else runs: no logs, no restarts."""

    local = False

    def __init__(self, api_url: str):
        self.api_url = api_url.rstrip("/")
        self.config = None


def _local_config(run_dir: Path) -> StackConfig:
    admin_url = os.environ.get("DATABASE_URL") or None
    return StackConfig(
        run_dir=run_dir, ports={name: free_port() for name in DEFAULT_PORTS},
        pg_port=free_port(), admin_url=admin_url,
        db_name=f"conduit_e2e_{uuid.uuid4().hex[:10]}" if admin_url else "conduit",
        persistent_pg=False, drop_database=bool(admin_url), web_concurrency=2,
        # Ten Postman runs in a row log in from one address within about a minute;
        # test_rate_limit adapts to the burst, so it still reaches the 429.
        login_rate="60r/m", login_burst=30,
        # Registrations too: the Postman runs, every test's users and schemathesis's
        # generated POST /users all come from 127.0.0.1.
        register_rate="300r/m", register_burst=100)


@pytest.fixture(scope="session")
def otlp_sink():
    """Where the stack's processes export their spans: tracing is on in the e2e stack
    (test_tracing.py reads what arrived)."""
    with OtlpSink(keep=True) as sink:
        yield sink


# Tracing on (to the sink), exporting every 100 ms instead of every 5 s.
def _tracing_environ(sink: OtlpSink) -> dict:
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.url, "OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture(scope="session")
def stack(otlp_sink):
    base_url = os.environ.get("CONDUIT_BASE_URL")
    if base_url:
        yield ExternalStack(base_url)
        return
    saved = {name: os.environ.get(name) for name in _tracing_environ(otlp_sink)}
    os.environ.update(_tracing_environ(otlp_sink))   # the processes inherit os.environ
    # Not pytest's tmp_path: nginx workers run as nobody under root and need to reach it.
    run_dir = Path(tempfile.mkdtemp(prefix="conduit-e2e-"))
    run_dir.chmod(0o755)
    try:
        with processes.running_stack(_local_config(run_dir), run_dir / "logs", {}) as local:
            local.local = True
            yield local
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture
def local_stack(stack):
    if not stack.local:
        pytest.skip("needs the stack started by the tests (CONDUIT_BASE_URL is set)")
    return stack


@dataclass
class User:
    username: str
    email: str
    password: str
    token: str


class Conduit:
    """A client of the public API through the gateway."""

    def __init__(self, api_url: str):
        self.api_url = api_url
        self.session = requests.Session()

    def request(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.session.request(method, self.api_url + path, headers=headers,
                                    timeout=15, **kwargs)

    def register(self, prefix: str = "user") -> User:
        name = f"{prefix}{uuid.uuid4().hex[:8]}"
        user = User(name, f"{name}@example.com", f"pw-{uuid.uuid4().hex}", "")
        resp = self.request("POST", "/users", json={"user": {
            "username": user.username, "email": user.email, "password": user.password}})
        assert resp.status_code == 201, resp.text
        user.token = resp.json()["user"]["token"]
        return user

    def create_article(self, user: User, **fields) -> dict:
        article = {"title": f"Title {uuid.uuid4().hex[:8]}", "description": "about it",
                   "body": "the body", "tagList": ["e2e"], **fields}
        resp = self.request("POST", "/articles", user.token, json={"article": article})
        assert resp.status_code == 201, resp.text
        return resp.json()["article"]


@pytest.fixture(scope="session")
def api(stack):
    client = Conduit(stack.api_url)
    yield client
    client.session.close()


def _log_entries(stack, name: str, request_id: str, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        entries = []
        for line in stack.log_path(name).read_text(errors="replace").splitlines():
            if request_id not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("request_id") == request_id:
                entries.append(entry)
        if entries or time.monotonic() > deadline:
            return entries
        time.sleep(0.1)


@pytest.fixture
def logged(local_stack):
    """logged(process, request_id, timeout=5): its JSON log lines with that request id."""
    def find(name: str, request_id: str, timeout: float = 5.0) -> list[dict]:
        return _log_entries(local_stack, name, request_id, timeout)
    return find


@pytest.fixture
def new_request_id():
    return lambda: f"e2e-{uuid.uuid4().hex}"

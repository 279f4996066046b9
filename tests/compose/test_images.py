"""The service images: generated Dockerfiles, the build context, and the entrypoint."""
import http.server
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_runs_the_service_as_non_root_with_exec_form_commands(service):
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    assert text.count("FROM python:3.11-slim-bookworm") == 2
    assert f"ARG SERVICE={service}\n" in text
    assert "USER 10001:10001" in text
    assert 'ENTRYPOINT ["conduit-entrypoint"]' in text
    assert 'CMD ["serve"]' in text
    assert "EXPOSE 8000 9000\n" in text   # public; internal API and /metrics
    assert 'CMD ["conduit-healthcheck"]' in text


def test_the_build_context_leaves_local_state_and_tests_out():
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    assert rules[rules.index("*") + 1:][:3] == ["!libs/common", "!services", "!docker"]
    for rule in ("**/tests", "**/__pycache__", "**/*.egg-info", "**/.env", "**/.venv"):
        assert rule in rules


@pytest.mark.parametrize("script", [ENTRYPOINT, HEALTHCHECK], ids=lambda p: p.name)
def test_scripts_copied_into_the_image_are_executable(script):
    assert os.access(script, os.X_OK)


@pytest.fixture
def fake_bin(tmp_path):
    """gunicorn, alembic and python stand-ins that print their arguments."""
    for tool in ("gunicorn", "alembic", "python"):
        path = tmp_path / tool
        path.write_text(f'#!/bin/sh\necho {tool} "$@"\n')
        path.chmod(0o755)
    return tmp_path


def run_entrypoint(fake_bin, *args, service="auth"):
    env = {"PATH": f"{fake_bin}:/usr/bin:/bin", "CONDUIT_SERVICE": service}
    return subprocess.run(["sh", str(ENTRYPOINT), *args], env=env,
                          capture_output=True, text=True, check=False)


def test_entrypoint_serves_with_gunicorn_and_the_service_config_by_default(fake_bin):
    out = run_entrypoint(fake_bin, service="profiles").stdout.split()
    assert out == ["gunicorn", "--config", "/app/services/profiles/gunicorn.conf.py",
                   "conduit_profiles.wsgi:app"]


def entrypoint_env_seen_by_gunicorn(fake_bin, **env):
    """What INTERNAL_PORT gunicorn starts with, for `serve` with the given environment."""
    (fake_bin / "gunicorn").write_text('#!/bin/sh\necho "INTERNAL_PORT=${INTERNAL_PORT-unset}"\n')
    result = subprocess.run(["sh", str(ENTRYPOINT), "serve"], capture_output=True, text=True,
                            env={"PATH": f"{fake_bin}:/usr/bin:/bin", "CONDUIT_SERVICE": "auth",
                                 **env}, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_entrypoint_serves_the_internal_port_9000_unless_told_otherwise(fake_bin):
    assert entrypoint_env_seen_by_gunicorn(fake_bin) == "INTERNAL_PORT=9000"
    assert entrypoint_env_seen_by_gunicorn(fake_bin, INTERNAL_PORT="9100") == "INTERNAL_PORT=9100"
    # Set but empty: no second port (every path on PORT), as gunicorn_defaults reads it.
    assert entrypoint_env_seen_by_gunicorn(fake_bin, INTERNAL_PORT="") == "INTERNAL_PORT="


def test_entrypoint_project_gets_no_internal_port(fake_bin):
    (fake_bin / "python").write_text('#!/bin/sh\necho "INTERNAL_PORT=${INTERNAL_PORT-unset}"\n')
    result = run_entrypoint(fake_bin, "project", service="profiles")
    assert result.stdout.strip() == "INTERNAL_PORT=unset"


def test_entrypoint_migrate_upgrades_to_head(fake_bin):
    out = run_entrypoint(fake_bin, "migrate").stdout.split()
    assert out == ["alembic", "--config", "/app/services/auth/alembic.ini", "upgrade", "head"]


def test_entrypoint_migrate_passes_other_alembic_commands(fake_bin):
    out = run_entrypoint(fake_bin, "migrate", "downgrade", "base").stdout.split()
    assert out[-2:] == ["downgrade", "base"]


@pytest.mark.parametrize("service", ["profiles", "articles"])
def test_entrypoint_project_runs_the_projector_of_a_consuming_service(fake_bin, service):
    result = run_entrypoint(fake_bin, "project", service=service)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["python", "-m", f"conduit_{service}.projector"]


def test_entrypoint_project_refuses_auth_which_consumes_nothing(fake_bin):
    result = run_entrypoint(fake_bin, "project", service="auth")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "auth has no projector" in result.stderr


def test_entrypoint_runs_any_other_command_as_given(fake_bin):
    assert run_entrypoint(fake_bin, "echo", "hello").stdout == "hello\n"


def test_entrypoint_refuses_to_guess_the_service(fake_bin):
    result = run_entrypoint(fake_bin, service="")
    assert result.returncode != 0
    assert "CONDUIT_SERVICE" in result.stderr


class _Healthz(http.server.BaseHTTPRequestHandler):
    """Alive but not ready: /healthz 200, /readyz 503 (a projector still catching up)."""

    def do_GET(self):
        self.send_response({"/healthz": 200, "/readyz": 503}.get(self.path, 404))
        self.end_headers()

    def log_message(self, *args):
        pass


def run_healthcheck(port, *args):
    env = {**os.environ, "PORT": str(port)}
    return subprocess.run([sys.executable, str(HEALTHCHECK), *args], env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def alive_not_ready():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_healthcheck_passes_when_healthz_answers_200(alive_not_ready):
    assert run_healthcheck(alive_not_ready).returncode == 0


def test_healthcheck_of_readiness_fails_while_readyz_answers_503(alive_not_ready):
    """docker-compose's projectors are probed with /readyz: not healthy while catching up."""
    result = run_healthcheck(alive_not_ready, "/readyz")
    assert result.returncode == 1
    assert "/readyz" in result.stderr and "503" in result.stderr


def test_healthcheck_fails_when_nothing_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_healthcheck(port)
    assert result.returncode == 1
    assert "healthz" in result.stderr

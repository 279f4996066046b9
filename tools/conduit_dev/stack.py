"""The local stack, shared by `make run` (under honcho) and tests/e2e (one Popen each).

`prepared(config)` gets the database ready (private cluster or DATABASE_URL, bootstrap,
migrations), the token keys and the nginx config, and yields the processes to start.
"""
import os
import shlex
import socket
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import requests
from conduit_common.testing import postgres

from conduit_dev import credentials, database, gateway, monitoring
from conduit_dev.config import CONSUMERS, SERVICES, StackConfig
from conduit_dev.system import ensure_program


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict = field(default_factory=dict)
    ready_url: str = ""

    @property
    def shell_command(self) -> str:
        return "exec " + shlex.join(self.argv)


def _check_ports_free(config: StackConfig) -> None:
    for name, port in config.ports.items():
        if not config.needs_port(name):
            continue
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("0.0.0.0", port))
            except OSError as ex:
                raise RuntimeError(f"port {port} ({name.upper()}_PORT) is in use: set "
                                   f"{name.upper()}_PORT to a free port") from ex


def service_spec(config: StackConfig, service: str, database_url: str, key_paths: dict
                 ) -> ProcessSpec:
    env = {
        **credentials.key_env(service, key_paths),
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(config.ports[service]),
        "INTERNAL_PORT": str(config.ports[f"{service}_internal"]),
        "WEB_CONCURRENCY": str(config.web_concurrency),
        "LOG_LEVEL": config.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", f"services/{service}/gunicorn.conf.py",
            f"conduit_{service}.wsgi:app"]
    return ProcessSpec(service, argv, env, f"{config.service_url(service)}/readyz")


def projector_spec(config: StackConfig, service: str, database_url: str, key_paths: dict
                   ) -> ProcessSpec:
    """The `project` command of a consuming service (its read models' projector)."""
    port = config.ports[f"{service}_projector"]
    env = {
        **credentials.projector_key_env(service, key_paths),
        "DATABASE_URL": database_url,
        "AUTH_SERVICE_URL": config.internal_url("auth"),
        "PROFILES_SERVICE_URL": config.internal_url("profiles"),
        "HOST": "127.0.0.1",
        "PROJECTOR_PORT": str(port),
        "LOG_LEVEL": config.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    argv = [sys.executable, "-m", f"conduit_{service}.projector"]
    return ProcessSpec(f"{service}-projector", argv, env, f"http://127.0.0.1:{port}/readyz")


def plan(config: StackConfig, urls: dict[str, str], key_paths: dict) -> list[ProcessSpec]:
    """The processes of the stack: services, their projectors, the gateway last. Each
    gets only the key material of its role (credentials.key_env)."""
    specs = [service_spec(config, svc, urls[svc], key_paths) for svc in SERVICES]
    specs += [projector_spec(config, svc, urls[svc], key_paths) for svc in CONSUMERS]
    nginx_conf = gateway.write_config(config)
    specs.append(ProcessSpec("gateway", gateway.nginx_command(nginx_conf), {},
                             f"{config.api_url}/tags"))
    if config.monitoring:
        specs.append(nginx_exporter_spec(config))
        specs.append(prometheus_spec(config))
    return specs


def nginx_exporter_spec(config: StackConfig) -> ProcessSpec:
    """MONITORING=1: the gateway's stub_status as Prometheus metrics (job `gateway`)."""
    program = ensure_program("prometheus-nginx-exporter", "prometheus-nginx-exporter")
    return ProcessSpec("nginx-exporter", monitoring.nginx_exporter_command(program, config), {},
                       f"{monitoring.nginx_exporter_url(config)}/metrics")


def prometheus_spec(config: StackConfig) -> ProcessSpec:
    """MONITORING=1: Prometheus scraping every service's internal port and the projectors."""
    program = ensure_program("prometheus", "prometheus")
    conf = monitoring.write_config(config)
    return ProcessSpec("prometheus", monitoring.prometheus_command(program, config, conf), {},
                       f"{monitoring.prometheus_url(config)}/-/ready")


@contextmanager
def prepared(config: StackConfig, environ=None):
    """Database ready and migrated, configs written; yields the process specs."""
    environ = os.environ if environ is None else environ
    config.run_dir.mkdir(parents=True, exist_ok=True)
    _check_ports_free(config)
    with ExitStack() as cleanup:
        admin_url = config.admin_url or cleanup.enter_context(database.private_cluster(config))
        passwords = credentials.db_passwords(config.run_dir, environ)
        db = database.bootstrap_and_migrate(admin_url, config, passwords)
        if config.drop_database:
            cleanup.callback(postgres.drop_database, db)
        key_paths = credentials.token_keys(config.run_dir)
        yield plan(config, {svc: db.url_for(svc) for svc in SERVICES}, key_paths)


def wait_ready(specs: list[ProcessSpec], timeout: float = 60.0, alive=lambda: True) -> None:
    """Poll every ready_url until it answers 200 (raise TimeoutError after timeout)."""
    deadline = time.monotonic() + timeout
    with requests.Session() as session:
        for spec in specs:
            while True:
                try:
                    if session.get(spec.ready_url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if not alive() or time.monotonic() > deadline:
                    raise TimeoutError(f"{spec.name} not ready at {spec.ready_url}")
                time.sleep(0.2)

"""What the local stack is made of: ports, paths and gateway knobs, from the environment."""
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conduit_dev.routes import ROOT

SERVICES = ("auth", "profiles", "articles")
# The services that keep read models, each with a projector process.
CONSUMERS = ("profiles", "articles")
DEFAULT_PORTS = {"gateway": 8080, "auth": 8001, "profiles": 8002, "articles": 8003,
                 # each service's internal API and /metrics (never routed by the gateway)
                 "auth_internal": 8101, "profiles_internal": 8102, "articles_internal": 8103,
                 "profiles_projector": 8012, "articles_projector": 8013,
                 # MONITORING=1 only (checked only then): Prometheus, the gateway's
                 # stub_status listener (127.0.0.1 only, never the public one) and
                 # the nginx exporter reading it
                 "prometheus": 9090, "gateway_status": 8180, "nginx_exporter": 9113}
# Ports that only an optional process listens on: StackConfig.needs_port.
OPTIONAL_PORTS = {"prometheus": "monitoring", "gateway_status": "monitoring",
                  "nginx_exporter": "monitoring"}
# Browser front ends on this machine, any port.
DEFAULT_CORS_REGEX = r"^https?://(localhost|127\.0\.0\.1)(:[0-9]+)?$"


class ConfigError(RuntimeError):
    """A setting of the local stack is malformed."""


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name) or str(default)
    try:
        return int(raw)
    except ValueError as ex:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from ex


@dataclass(frozen=True)
class StackConfig:
    """Settings of one local stack (`make run`, or one e2e test session)."""

    run_dir: Path
    ports: dict = field(default_factory=lambda: dict(DEFAULT_PORTS))
    pg_port: int = 5433
    # A superuser URL to bootstrap on; None starts a private cluster under run_dir/pg.
    admin_url: str | None = None
    db_name: str = "conduit"
    web_concurrency: int = 2
    log_level: str = "INFO"
    login_rate: str = "10r/m"
    login_burst: int = 10
    # Registration (POST /users) per client address; each one costs an argon2 hash.
    register_rate: str = "5r/m"
    register_burst: int = 5
    # The address nginx listens on: loopback unless GATEWAY_BIND says otherwise.
    gateway_bind: str = "127.0.0.1"
    cors_regex: str = DEFAULT_CORS_REGEX
    # Keep the private cluster's data in run_dir/pg (make run) or a temp dir (tests).
    persistent_pg: bool = True
    # Drop the database on exit (tests on a shared DATABASE_URL server).
    drop_database: bool = False
    # Archive WAL to run_dir/pg/wal-archive (point-in-time recovery: conduit_dev.backup).
    wal_archive: bool = False
    # MONITORING=1: start a Prometheus scraping every service, projector and the gateway
    # (through prometheus-nginx-exporter; monitoring.py).
    monitoring: bool = False
    root: Path = ROOT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "StackConfig":
        env = os.environ if environ is None else environ
        ports = {name: _int(env, f"{name.upper()}_PORT", port)
                 for name, port in DEFAULT_PORTS.items()}
        return cls(
            run_dir=Path(env.get("CONDUIT_RUN_DIR") or env.get("RUN_DIR")
                         or ROOT / ".run").resolve(),
            ports=ports,
            pg_port=_int(env, "PGPORT", 5433),
            admin_url=env.get("DATABASE_URL") or None,
            db_name=env.get("CONDUIT_DB") or "conduit",
            web_concurrency=_int(env, "WEB_CONCURRENCY", 2),
            log_level=env.get("LOG_LEVEL") or "INFO",
            login_rate=env.get("LOGIN_RATE") or cls.login_rate,
            login_burst=_int(env, "LOGIN_BURST", cls.login_burst),
            register_rate=env.get("REGISTER_RATE") or cls.register_rate,
            register_burst=_int(env, "REGISTER_BURST", cls.register_burst),
            gateway_bind=env.get("GATEWAY_BIND") or cls.gateway_bind,
            cors_regex=env.get("CORS_ALLOWED_ORIGINS_REGEX") or DEFAULT_CORS_REGEX,
            wal_archive=env.get("CONDUIT_WAL_ARCHIVE", "") not in ("", "0"),
            monitoring=env.get("MONITORING", "") not in ("", "0"),
        )

    def needs_port(self, name: str) -> bool:
        """Whether something of this stack listens on ports[name]."""
        flag = OPTIONAL_PORTS.get(name)
        return flag is None or bool(getattr(self, flag))

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def internal_url(self, service: str) -> str:
        """The service's internal port: event feeds, snapshots, /metrics."""
        return f"http://127.0.0.1:{self.ports[f'{service}_internal']}"

    @property
    def gateway_url(self) -> str:
        host = self.gateway_bind
        if host in ("0.0.0.0", "*", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.ports['gateway']}"

    @property
    def api_url(self) -> str:
        return f"{self.gateway_url}/flask/api"

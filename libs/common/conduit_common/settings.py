"""Settings every service shares; services extend CommonSettings with their own."""
from dataclasses import dataclass

from conduit_common.config import ConfigError, Env

ONE_MIB = 1024 * 1024
# Secrets published in this repository (.env.example): usable only with the explicit
# dev flag, so a copied example can never run a shared deployment by accident.
EXAMPLE_SECRETS = frozenset({"local-only-jwt-secret-change-me-0123456789"})
DEV_FLAG = "CONDUIT_ALLOW_EXAMPLE_KEY"


@dataclass(frozen=True)
class CommonSettings:
    secret: str
    database_url: str
    jwt_ttl_seconds: int = 86400
    log_level: str = "INFO"
    max_body_bytes: int = ONE_MIB
    db_pool_size: int = 5
    # Postgres statement_timeout of the request connections (0: none; see db.py).
    db_statement_timeout_ms: int = 1000
    # Per-request overhead knobs, measured by `make bench` (docs/benchmarks.md).
    access_log: bool = True
    db_pool_pre_ping: str = "idle"
    # Keys whose tokens are still accepted but never used to sign: they let
    # CONDUIT_SECRET be rotated without signing everyone out (docs/operations.md).
    secret_fallbacks: tuple[str, ...] = ()
    # Owners: how long a write's response waits for consumers to apply its events.
    consistency_wait_seconds: float = 0.25
    # The port of the internal API and /metrics (None: one port serves everything).
    internal_port: int | None = None

    @classmethod
    def common_from_env(cls, env: Env) -> dict:
        """Read the shared fields; subclasses add theirs and build the object."""
        secret = env.secret("CONDUIT_SECRET")
        if secret in EXAMPLE_SECRETS and not env.flag(DEV_FLAG, False):
            raise ConfigError(f"environment variable CONDUIT_SECRET is the published example "
                              f"from .env.example: set a secret of your own (or {DEV_FLAG}=1 "
                              "for a local stack)")
        return {
            "secret": secret,
            "database_url": env.str("DATABASE_URL"),
            "jwt_ttl_seconds": env.int("JWT_TTL_SECONDS", 86400, minimum=1),
            "log_level": env.str("LOG_LEVEL", "INFO").upper(),
            "max_body_bytes": env.int("MAX_BODY_BYTES", ONE_MIB, minimum=1),
            "db_pool_size": env.int("DB_POOL_SIZE", 5, minimum=1),
            "db_statement_timeout_ms": env.int("DB_STATEMENT_TIMEOUT_MS", 1000, minimum=0),
            "access_log": env.flag("ACCESS_LOG", True),
            "db_pool_pre_ping": env.choice("DB_POOL_PRE_PING", ("idle", "always", "off"), "idle"),
            "secret_fallbacks": env.secret_list("CONDUIT_SECRET_FALLBACKS"),
            "consistency_wait_seconds": env.float("CONSISTENCY_WAIT_SECONDS", 0.25),
            "internal_port": env.optional_int("INTERNAL_PORT", minimum=1),
        }

    @classmethod
    def from_env(cls, env: Env | None = None):
        return cls(**cls.common_from_env(env or Env()))

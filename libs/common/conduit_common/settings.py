"""Settings every service shares; services extend CommonSettings with their own.

Key material (docs/security.md, "Token keys"): every service reads the public
user-token keys (JWT_PUBLIC_KEYS) and the public keys of the callers it trusts on its
internal API (SERVICE_PUBLIC_KEYS). Only auth reads a private key (AuthSettings);
nothing here ever does.
"""
from dataclasses import dataclass, field

from conduit_common.config import ConfigError, Env
from conduit_common.keys import KeyMaterialError, KeySet, SigningKey

ONE_MIB = 1024 * 1024


def read_key_set(env: Env, name: str, required: bool = True) -> KeySet:
    """A public JWKS from NAME or NAME_FILE; an empty set when optional and unset."""
    text = env.material(name) if required else env.material(name, "")
    if not text:
        return KeySet()
    try:
        keys = KeySet.from_jwks(text)
    except KeyMaterialError as ex:
        raise ConfigError(f"environment variable {name}: {ex}") from ex
    if required and not keys:
        raise ConfigError(f"environment variable {name}: the key set is empty")
    return keys


def read_signing_key(env: Env, name: str, owner: str) -> SigningKey:
    """A private Ed25519 PEM from NAME or NAME_FILE, signing as `owner`."""
    try:
        return SigningKey.from_pem(owner, env.material(name))
    except KeyMaterialError as ex:
        raise ConfigError(f"environment variable {name}: {ex}") from ex


@dataclass(frozen=True)
class CommonSettings:
    # The public user-token keys: the current one and the previous ones (rotation).
    jwt_public_keys: KeySet
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
    # Public keys of the services allowed to call this one's /internal/... routes
    # (empty: nobody, every internal call is a 401).
    service_public_keys: KeySet = field(default_factory=KeySet)
    # Owners: how long a write's response waits for consumers to apply its events.
    consistency_wait_seconds: float = 0.25
    # The port of the internal API and /metrics (None: one port serves everything).
    internal_port: int | None = None

    @classmethod
    def common_from_env(cls, env: Env) -> dict:
        """Read the shared fields; subclasses add theirs and build the object."""
        return {
            "jwt_public_keys": read_key_set(env, "JWT_PUBLIC_KEYS"),
            "database_url": env.str("DATABASE_URL"),
            "jwt_ttl_seconds": env.int("JWT_TTL_SECONDS", 86400, minimum=1),
            "log_level": env.str("LOG_LEVEL", "INFO").upper(),
            "max_body_bytes": env.int("MAX_BODY_BYTES", ONE_MIB, minimum=1),
            "db_pool_size": env.int("DB_POOL_SIZE", 5, minimum=1),
            "db_statement_timeout_ms": env.int("DB_STATEMENT_TIMEOUT_MS", 1000, minimum=0),
            "access_log": env.flag("ACCESS_LOG", True),
            "db_pool_pre_ping": env.choice("DB_POOL_PRE_PING", ("idle", "always", "off"), "idle"),
            "service_public_keys": read_key_set(env, "SERVICE_PUBLIC_KEYS", required=False),
            "consistency_wait_seconds": env.float("CONSISTENCY_WAIT_SECONDS", 0.25),
            "internal_port": env.optional_int("INTERNAL_PORT", minimum=1),
        }

    @classmethod
    def from_env(cls, env: Env | None = None):
        return cls(**cls.common_from_env(env or Env()))

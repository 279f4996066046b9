"""Settings of the auth service, read from the environment in the app factory."""
from dataclasses import dataclass

from conduit_common.config import ConfigError, Env
from conduit_common.keys import USER_TOKEN_OWNER, SigningKey
from conduit_common.settings import CommonSettings, read_signing_key

# OWASP's argon2id baseline (t=2, m=19 MiB, p=1) rather than argon2-cffi's default
# (RFC 9106 low-memory, m=64 MiB, p=4): a worker hashes on several threads at once,
# and 64 MiB each would blow a container's memory limit under a burst of logins.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST_KIB = 19 * 1024
ARGON2_PARALLELISM = 1


@dataclass(frozen=True, kw_only=True)
class AuthSettings(CommonSettings):
    # The one private user-token key of the system (JWT_PRIVATE_KEY, PEM): auth alone
    # signs user tokens. Its kid is derived from the key (conduit_common.keys).
    jwt_private_key: SigningKey
    argon2_time_cost: int = ARGON2_TIME_COST
    argon2_memory_cost: int = ARGON2_MEMORY_COST_KIB

    def __post_init__(self):
        # A signing key missing from the published set would issue tokens that no
        # service, auth included, accepts: fail at start, not at the first login.
        if self.jwt_private_key.kid not in self.jwt_public_keys:
            raise ConfigError(f"JWT_PRIVATE_KEY (kid {self.jwt_private_key.kid}) is not in "
                              f"JWT_PUBLIC_KEYS ({', '.join(self.jwt_public_keys.kids)}): "
                              "publish its public key first (docs/operations.md)")

    @classmethod
    def from_env(cls, env: Env | None = None) -> "AuthSettings":
        env = env or Env()
        return cls(
            **cls.common_from_env(env),
            jwt_private_key=read_signing_key(env, "JWT_PRIVATE_KEY", owner=USER_TOKEN_OWNER),
            argon2_time_cost=env.int("ARGON2_TIME_COST", ARGON2_TIME_COST, minimum=1),
            # argon2 needs at least 8 KiB per lane.
            argon2_memory_cost=env.int("ARGON2_MEMORY_COST", ARGON2_MEMORY_COST_KIB,
                                       minimum=8 * ARGON2_PARALLELISM),
        )

"""Settings of the auth service, read from the environment in the app factory."""
from dataclasses import dataclass

from conduit_common.config import Env
from conduit_common.settings import CommonSettings

# OWASP's argon2id baseline (t=2, m=19 MiB, p=1) rather than argon2-cffi's default
# (RFC 9106 low-memory, m=64 MiB, p=4): a worker hashes on several threads at once,
# and 64 MiB each would blow a container's memory limit under a burst of logins.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_COST_KIB = 19 * 1024
ARGON2_PARALLELISM = 1


@dataclass(frozen=True)
class AuthSettings(CommonSettings):
    argon2_time_cost: int = ARGON2_TIME_COST
    argon2_memory_cost: int = ARGON2_MEMORY_COST_KIB

    @classmethod
    def from_env(cls, env: Env | None = None) -> "AuthSettings":
        env = env or Env()
        return cls(
            **cls.common_from_env(env),
            argon2_time_cost=env.int("ARGON2_TIME_COST", ARGON2_TIME_COST, minimum=1),
            # argon2 needs at least 8 KiB per lane.
            argon2_memory_cost=env.int("ARGON2_MEMORY_COST", ARGON2_MEMORY_COST_KIB,
                                       minimum=8 * ARGON2_PARALLELISM),
        )

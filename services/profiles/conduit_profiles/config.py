"""Settings of the profiles service, read from the environment in the app factory."""
from dataclasses import dataclass

from conduit_common.config import Env
from conduit_common.settings import CommonSettings

DEFAULT_DOWNSTREAM_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class ProfilesSettings(CommonSettings):
    auth_service_url: str
    downstream_timeout_seconds: float = DEFAULT_DOWNSTREAM_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Env | None = None) -> "ProfilesSettings":
        env = env or Env()
        return cls(
            **cls.common_from_env(env),
            auth_service_url=env.str("AUTH_SERVICE_URL"),
            downstream_timeout_seconds=env.float("DOWNSTREAM_TIMEOUT_SECONDS",
                                                 DEFAULT_DOWNSTREAM_TIMEOUT_SECONDS),
        )

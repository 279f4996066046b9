"""Settings of the articles service, read from the environment in the app factory."""
from dataclasses import dataclass

from conduit_common.config import Env
from conduit_common.settings import CommonSettings


@dataclass(frozen=True)
class ArticlesSettings(CommonSettings):
    auth_service_url: str = ""
    profiles_service_url: str = ""
    downstream_timeout_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Env | None = None) -> "ArticlesSettings":
        env = env or Env()
        return cls(
            **cls.common_from_env(env),
            auth_service_url=env.str("AUTH_SERVICE_URL"),
            profiles_service_url=env.str("PROFILES_SERVICE_URL"),
            downstream_timeout_seconds=env.float("DOWNSTREAM_TIMEOUT_SECONDS", 2.0),
        )

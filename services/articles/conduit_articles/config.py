"""Settings of the articles service, read from the environment in the app factory.

The API needs only its database: authors and follows come from local read models.
The projector (projector.py) reads AUTH_SERVICE_URL and PROFILES_SERVICE_URL itself.
"""
from dataclasses import dataclass

from conduit_common.settings import CommonSettings


@dataclass(frozen=True)
class ArticlesSettings(CommonSettings):
    pass

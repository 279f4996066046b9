"""Settings of the profiles service, read from the environment in the app factory.

The API needs only its database: users come from the local read model. The
projector (projector.py) reads AUTH_SERVICE_URL itself.
"""
from dataclasses import dataclass

from conduit_common.settings import CommonSettings


@dataclass(frozen=True, kw_only=True)
class ProfilesSettings(CommonSettings):
    pass

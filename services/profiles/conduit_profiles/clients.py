"""Calls to the auth service's internal API."""
from collections.abc import Sequence
from dataclasses import dataclass

from conduit_common.errors import DependencyUnavailable
from conduit_common.http import InternalClient

from conduit_profiles.config import ProfilesSettings


@dataclass(frozen=True)
class User:
    id: int
    username: str
    bio: str | None
    image: str | None

    @classmethod
    def from_json(cls, data: dict) -> "User":
        return cls(id=int(data["id"]), username=data["username"],
                   bio=data.get("bio"), image=data.get("image"))


class AuthClient:
    """Users by id or name; one HTTP call per method call, whatever the batch size."""

    def __init__(self, http: InternalClient):
        self._http = http

    @classmethod
    def from_settings(cls, settings: ProfilesSettings) -> "AuthClient":
        return cls(InternalClient(settings.auth_service_url, "auth",
                                  connect_timeout=min(0.5, settings.downstream_timeout_seconds),
                                  read_timeout=settings.downstream_timeout_seconds))

    def users_by_ids(self, ids: Sequence[int]) -> list[User]:
        if not ids:
            return []
        return self._users({"id": list(ids)})

    def user_by_username(self, username: str) -> User | None:
        wanted = username.casefold()
        matches = [user for user in self._users({"username": username})
                   if user.username.casefold() == wanted]
        return matches[0] if matches else None

    def _users(self, params: dict) -> list[User]:
        body = self._http.get_json("/internal/users", params=params)
        try:
            return [User.from_json(user) for user in body["users"]]
        except (KeyError, TypeError, ValueError) as ex:
            # A reply we cannot read is the peer's fault; the client sees a 503.
            raise DependencyUnavailable("auth service is unavailable, try again later") from ex

    def close(self) -> None:
        self._http.close()

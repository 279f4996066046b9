"""Calls to auth and profiles: one batched GET per question, per request."""
import logging
from collections.abc import Iterable
from contextlib import contextmanager

from conduit_common.errors import DependencyUnavailable
from conduit_common.http import InternalClient

log = logging.getLogger("conduit.articles.clients")


@contextmanager
def _contract(peer: str):
    """A payload of the wrong shape is the peer's failure: 503, not a 500."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError) as ex:
        log.error("%s answered a payload that breaks the contract: %r", peer, ex)
        raise DependencyUnavailable(f"{peer} service is unavailable, try again later") from ex


class AuthClient:
    """Usernames to user ids, through auth's internal API."""

    def __init__(self, http: InternalClient):
        self._http = http

    def user_ids_by_username(self, usernames: Iterable[str]) -> dict[str, int]:
        """Map each known username (lower-cased) to its id; unknown names are absent."""
        names = sorted(set(usernames))
        if not names:
            return {}
        payload = self._http.get_json("/internal/users", {"username": names})
        with _contract("auth"):
            return {user["username"].lower(): int(user["id"]) for user in payload["users"]}

    def followed_profiles(self, user_ids: Iterable[int]) -> dict[int, dict]:
        """Profiles of users the viewer is known to follow (the feed's authors)."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        payload = self._http.get_json("/internal/users", {"id": ids})
        with _contract("auth"):
            return {int(user["id"]): {**_public_profile(user), "following": True}
                    for user in payload["users"]}


class ProfilesClient:
    """Profiles (with `following` for a viewer) and followee ids, from profiles."""

    def __init__(self, http: InternalClient):
        self._http = http

    def profiles(self, user_ids: Iterable[int], viewer_id: int | None) -> dict[int, dict]:
        """Map each known user id to {username, bio, image, following}."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        params: dict = {"id": ids}
        if viewer_id is not None:
            params["viewer"] = viewer_id
        payload = self._http.get_json("/internal/profiles", params)
        with _contract("profiles"):
            return {int(profile["id"]): _public_profile(profile)
                    for profile in payload["profiles"]}

    def followee_ids(self, follower_id: int) -> list[int]:
        payload = self._http.get_json("/internal/following", {"follower": follower_id})
        with _contract("profiles"):
            return [int(user_id) for user_id in payload["ids"]]


def _public_profile(profile: dict) -> dict:
    return {
        "username": profile["username"],
        "bio": profile.get("bio"),
        "image": profile.get("image"),
        "following": bool(profile.get("following", False)),
    }

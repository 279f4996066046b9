"""The rules of profiles and follows: plain values in, domain exceptions out.

`users` is anything with the AuthClient methods, `follows` anything with the
FollowRepository methods, so the rules are tested with in-memory fakes.
"""
from dataclasses import dataclass

from conduit_common.errors import NotFound, Unprocessable

from conduit_profiles import messages
from conduit_profiles.clients import User


@dataclass(frozen=True)
class Profile:
    id: int
    username: str
    bio: str | None
    image: str | None
    following: bool

    @classmethod
    def of(cls, user: User, following: bool) -> "Profile":
        return cls(id=user.id, username=user.username, bio=user.bio, image=user.image,
                   following=following)


def _existing_user(users, username: str) -> User:
    user = users.user_by_username(username)
    if user is None:
        raise NotFound(messages.PROFILE_NOT_FOUND)
    return user


def get_profile(users, follows, username: str, viewer_id: int | None) -> Profile:
    user = _existing_user(users, username)
    following = viewer_id is not None and user.id in follows.followed_among(viewer_id, [user.id])
    return Profile.of(user, following)


def follow(users, follows, username: str, follower_id: int) -> Profile:
    user = _existing_user(users, username)
    if user.id == follower_id:
        raise Unprocessable(messages.CANNOT_FOLLOW_YOURSELF)
    follows.follow(follower_id, user.id)
    return Profile.of(user, True)


def unfollow(users, follows, username: str, follower_id: int) -> Profile:
    """Stop following; unfollowing someone you never followed (yourself too) is a no-op."""
    user = _existing_user(users, username)
    follows.unfollow(follower_id, user.id)
    return Profile.of(user, False)


def profiles_by_ids(users, follows, ids: list[int], viewer_id: int | None) -> list[Profile]:
    """Profiles in the order of `ids` (unknown ids left out): one auth call, at most one query."""
    unique_ids = list(dict.fromkeys(ids))
    if not unique_ids:
        return []
    found = {user.id: user for user in users.users_by_ids(unique_ids)}
    followed = follows.followed_among(viewer_id, list(found)) if viewer_id is not None else set()
    return [Profile.of(found[i], i in followed) for i in unique_ids if i in found]


def followee_ids(follows, follower_id: int) -> list[int]:
    return follows.followee_ids(follower_id)

"""The rules of profiles and follows: plain values in, domain exceptions out.

`profiles` is anything with the ProfileRepository methods, `follows` anything with
the FollowRepository methods, so the rules are tested with in-memory fakes. Users
come from the local copy of auth's users: no call to another service.
"""
from dataclasses import replace

from conduit_common.errors import NotFound, Unprocessable

from conduit_profiles import messages
from conduit_profiles.repository import Profile


def get_profile(profiles, username: str, viewer_id: int | None) -> Profile:
    profile = profiles.by_username(username, viewer_id)
    if profile is None:
        raise NotFound(messages.PROFILE_NOT_FOUND)
    return profile


def follow(profiles, follows, username: str, follower_id: int) -> Profile:
    profile = get_profile(profiles, username, None)
    if profile.id == follower_id:
        raise Unprocessable(messages.CANNOT_FOLLOW_YOURSELF)
    follows.follow(follower_id, profile.id)
    return replace(profile, following=True)


def unfollow(profiles, follows, username: str, follower_id: int) -> Profile:
    """Stop following; unfollowing someone you never followed (yourself too) is a no-op."""
    profile = get_profile(profiles, username, None)
    follows.unfollow(follower_id, profile.id)
    return replace(profile, following=False)


def follows_snapshot(follows, cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    """A page of every follow, and the cursor ("<follower>.<followee>") of the next one."""
    after = tuple(int(part) for part in cursor.split(".")) if cursor else (0, 0)
    if len(after) != 2:
        raise ValueError(f"not a follows cursor: {cursor!r}")
    rows = follows.snapshot(after, limit)
    last = rows[-1] if len(rows) == limit else None
    return rows, (f"{last['follower_id']}.{last['followee_id']}" if last else None)

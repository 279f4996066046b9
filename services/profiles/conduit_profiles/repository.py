"""Reads of profiles and writes of follows; one statement per method."""
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import bindparam, delete, exists, false, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from conduit_profiles import events
from conduit_profiles.models import USERS, Follow


@dataclass(frozen=True)
class Profile:
    id: int
    username: str
    bio: str | None
    image: str | None
    following: bool


class ProfileRepository:
    """Profiles from the users read model, with `following` from our own follows."""

    def __init__(self, session: Session):
        self._session = session

    def by_username(self, username: str, viewer_id: int | None) -> Profile | None:
        row = self._session.execute(_profile_statement(viewer_id is not None),
                                    {"name": username, "viewer": viewer_id}).first()
        return Profile(**row._asdict()) if row else None


class FollowRepository:
    def __init__(self, session: Session):
        self._session = session

    def follow(self, follower_id: int, followee_id: int) -> None:
        """Record the follow (and its event); following twice changes nothing."""
        added = self._session.execute(
            insert(Follow).values(follower_id=follower_id, followee_id=followee_id)
            .on_conflict_do_nothing().returning(Follow.follower_id)).first()
        if added:
            self._publish(events.FOLLOW_ADDED, follower_id, followee_id)

    def unfollow(self, follower_id: int, followee_id: int) -> None:
        removed = self._session.execute(
            delete(Follow).where(Follow.follower_id == follower_id,
                                 Follow.followee_id == followee_id)
            .returning(Follow.follower_id)).first()
        if removed:
            self._publish(events.FOLLOW_REMOVED, follower_id, followee_id)

    def snapshot(self, after: tuple[int, int], limit: int) -> list[dict]:
        """Every follow after the (follower, followee) pair `after`, in key order."""
        rows = self._session.execute(
            select(Follow.follower_id, Follow.followee_id)
            .where(tuple_(Follow.follower_id, Follow.followee_id) > tuple_(*after))
            .order_by(Follow.follower_id, Follow.followee_id).limit(limit))
        return [row._asdict() for row in rows]

    def _publish(self, event_type: str, follower_id: int, followee_id: int) -> None:
        events.outbox.record(self._session, event_type,
                             events.follow_pair(follower_id, followee_id))


@lru_cache(maxsize=2)
def _profile_statement(with_viewer: bool):
    """One statement: the user by name (any case) and whether the viewer follows them."""
    following = (exists().where(Follow.follower_id == bindparam("viewer"),
                                Follow.followee_id == USERS.c.id)
                 if with_viewer else false())
    return (select(USERS.c.id, USERS.c.username, USERS.c.bio, USERS.c.image,
                   following.label("following"))
            .where(func.lower(USERS.c.username) == func.lower(bindparam("name")))
            .order_by(USERS.c.id).limit(1))

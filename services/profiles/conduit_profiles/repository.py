"""Reads and writes of the follows table; one statement per method."""
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from conduit_profiles.models import Follow


class FollowRepository:
    def __init__(self, session: Session):
        self._session = session

    def follow(self, follower_id: int, followee_id: int) -> None:
        """Record the follow; following twice changes nothing."""
        statement = insert(Follow).values(follower_id=follower_id, followee_id=followee_id)
        self._session.execute(statement.on_conflict_do_nothing())

    def unfollow(self, follower_id: int, followee_id: int) -> None:
        self._session.execute(delete(Follow).where(
            Follow.follower_id == follower_id, Follow.followee_id == followee_id))

    def followed_among(self, follower_id: int, candidate_ids: Collection[int]) -> set[int]:
        """The ids in `candidate_ids` that `follower_id` follows, in one query."""
        if not candidate_ids:
            return set()
        rows = self._session.scalars(select(Follow.followee_id).where(
            Follow.follower_id == follower_id, Follow.followee_id.in_(list(candidate_ids))))
        return set(rows)

    def followee_ids(self, follower_id: int) -> list[int]:
        """Everyone `follower_id` follows, by id (the primary key's order)."""
        rows = self._session.scalars(
            select(Follow.followee_id).where(Follow.follower_id == follower_id)
            .order_by(Follow.followee_id))
        return list(rows)

"""Reads and writes of the follows table; one statement per method."""
from collections.abc import Collection
from functools import lru_cache

from sqlalchemy import BigInteger, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
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
        rows = self._session.scalars(_followed_among_statement(),
                                     {"follower": follower_id, "candidates": list(candidate_ids)})
        return set(rows)

    def followee_ids(self, follower_id: int) -> list[int]:
        """Everyone `follower_id` follows, by id (the primary key's order)."""
        return list(self._session.scalars(_followee_ids_statement(), {"follower": follower_id}))


# The read statements sit on every list page's path: built once, values bound.

@lru_cache(maxsize=1)
def _followed_among_statement():
    return select(Follow.followee_id).where(
        Follow.follower_id == bindparam("follower"),
        Follow.followee_id == any_(bindparam("candidates", type_=ARRAY(BigInteger))))


@lru_cache(maxsize=1)
def _followee_ids_statement():
    return (select(Follow.followee_id).where(Follow.follower_id == bindparam("follower"))
            .order_by(Follow.followee_id))

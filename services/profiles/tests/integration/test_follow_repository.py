"""FollowRepository on the real Postgres: rows and the events they publish."""
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from conduit_profiles.models import OUTBOX


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def follows(session):
    from conduit_profiles.repository import FollowRepository
    return FollowRepository(session)


def published(session) -> list[tuple[str, int, int]]:
    rows = session.execute(select(OUTBOX.events.c.type, OUTBOX.events.c.data)
                           .order_by(OUTBOX.events.c.id))
    return [(kind, data["follower_id"], data["followee_id"]) for kind, data in rows]


def snapshot(follows, after=(0, 0)):
    return [(r["follower_id"], r["followee_id"]) for r in follows.snapshot(after, 100)]


def test_following_twice_keeps_one_row_and_publishes_once(follows, session):
    follows.follow(1, 2)
    follows.follow(1, 2)

    assert snapshot(follows) == [(1, 2)]
    assert published(session) == [("FollowAdded", 1, 2)]


def test_unfollow_removes_only_that_pair_and_publishes_it(follows, session):
    follows.follow(1, 2)
    follows.follow(1, 3)
    follows.follow(4, 2)

    follows.unfollow(1, 2)

    assert snapshot(follows) == [(1, 3), (4, 2)]
    assert published(session)[-1] == ("FollowRemoved", 1, 2)


def test_unfollowing_a_stranger_changes_and_publishes_nothing(follows, session):
    follows.follow(1, 2)

    follows.unfollow(1, 3)

    assert snapshot(follows) == [(1, 2)]
    assert published(session) == [("FollowAdded", 1, 2)]


def test_the_snapshot_pages_in_key_order_after_a_cursor(follows):
    for pair in [(2, 1), (1, 3), (1, 2), (3, 1)]:
        follows.follow(*pair)

    assert snapshot(follows, after=(1, 3)) == [(2, 1), (3, 1)]

"""FollowRepository on the real Postgres."""
import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from conduit_common.testing.counting import counting_statements
from conduit_profiles.repository import FollowRepository


@pytest.fixture
def follows(engine):
    """A repository whose session commits nothing: each call is seen by the next."""
    with Session(engine) as session:
        yield FollowRepository(session)
        session.commit()


def test_following_twice_keeps_one_row(follows):
    follows.follow(1, 2)
    follows.follow(1, 2)

    assert follows.followee_ids(1) == [2]


def test_unfollow_removes_only_that_pair(follows):
    follows.follow(1, 2)
    follows.follow(1, 3)
    follows.follow(4, 2)

    follows.unfollow(1, 2)

    assert follows.followee_ids(1) == [3]
    assert follows.followee_ids(4) == [2]


def test_unfollowing_a_stranger_changes_nothing(follows):
    follows.follow(1, 2)

    follows.unfollow(1, 3)

    assert follows.followee_ids(1) == [2]


def test_followed_among_answers_a_whole_batch_in_one_query(engine, follows):
    for followee in (2, 5, 9):
        follows.follow(1, followee)
    follows.follow(3, 4)

    with counting_statements(engine) as log:
        followed = follows.followed_among(1, list(range(2, 200)))

    assert followed == {2, 5, 9}
    assert log.count == 1


def test_followed_among_nobody_runs_no_query(engine, follows):
    with counting_statements(engine) as log:
        assert follows.followed_among(1, []) == set()

    assert log.count == 0


def test_followee_ids_are_in_id_order(follows):
    for followee in (9, 2, 5):
        follows.follow(1, followee)

    assert follows.followee_ids(1) == [2, 5, 9]


def test_database_refuses_a_self_follow(follows):
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        follows.follow(1, 1)


def test_follows_are_committed_by_the_session(engine):
    with Session(engine) as session:
        FollowRepository(session).follow(1, 2)
        session.commit()

    with Session(engine) as session:
        assert FollowRepository(session).followee_ids(1) == [2]

"""The follows projection's batch: statements built once, the batch as their values."""
from conduit_common.events.model import Event, Position

from conduit_articles.projections import DELETE_FOLLOWS, INSERT_FOLLOWS, follow_statements


def follows(pairs, kind="FollowAdded", start=1):
    return [Event(Position(start + i), kind, {"follower_id": a, "followee_id": b})
            for i, (a, b) in enumerate(pairs)]


def test_follows_of_any_number_are_one_cacheable_insert():
    batches = [follow_statements(follows([(1, b) for b in range(2, 2 + n)])) for n in (1, 3, 10)]
    assert all(len(batch) == 1 and batch[0][0] is INSERT_FOLLOWS for batch in batches)
    assert INSERT_FOLLOWS._generate_cache_key() is not None
    assert [len(batch[0][1]["follows_added"]) for batch in batches] == [1, 3, 10]
    assert batches[2][0][1]["follow_followees"] == list(range(2, 12))


def test_the_last_event_per_pair_decides():
    events = follows([(1, 2), (1, 3)]) + follows([(1, 2)], "FollowRemoved", start=3)
    (insert, added), (delete, removed) = follow_statements(events)
    assert (insert, delete) == (INSERT_FOLLOWS, DELETE_FOLLOWS)
    assert added["follows_added"] == [{"follower_id": 1, "followee_id": 3}]
    assert removed["follows_removed"] == [(1, 2)]
    # both lock the count rows of every followee of the batch, in key order
    assert added["follow_followees"] == removed["follow_followees"] == [2, 3]

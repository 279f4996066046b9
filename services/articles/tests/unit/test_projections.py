"""The follows projection's batch statement: one compiled form whatever the batch."""
from conduit_common.events.model import Event, Position

from conduit_articles.projections import follow_statements


def follows(pairs, kind="FollowAdded"):
    return [Event(Position(i + 1), kind, {"follower_id": a, "followee_id": b})
            for i, (a, b) in enumerate(pairs)]


def test_an_insert_of_any_number_of_follows_has_one_cache_key():
    keys = [follow_statements(follows([(1, b) for b in range(2, 2 + n)]))[0]._generate_cache_key()
            for n in (1, 3, 10)]
    assert None not in keys
    assert keys[0].key == keys[1].key == keys[2].key


def test_the_last_event_per_pair_decides():
    statements = follow_statements(
        follows([(1, 2), (1, 3)]) + follows([(1, 2)], "FollowRemoved"))
    insert, delete = statements
    assert list(insert.compile().params.values()) == [[{"follower_id": 1, "followee_id": 3}]]
    assert list(delete.compile().params.values()) == [[(1, 2)]]

"""The read models articles keeps: auth's users (shared declaration) and profiles' follows."""
from sqlalchemy import tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from conduit_common.events.model import Event
from conduit_common.events.projector import Projection
from conduit_common.events.users import users_projection

from conduit_articles.models import FOLLOWS, USERS

FOLLOW_ADDED = "FollowAdded"
FOLLOW_REMOVED = "FollowRemoved"


def _pair(data: dict) -> tuple[int, int]:
    return int(data["follower_id"]), int(data["followee_id"])


def apply_follow_events(session, events: list[Event]) -> None:
    """The last event per pair decides (feed order), then one insert and one delete."""
    final: dict[tuple[int, int], bool] = {}
    for event in events:
        if event.type in (FOLLOW_ADDED, FOLLOW_REMOVED):
            final[_pair(event.data)] = event.type == FOLLOW_ADDED
    _insert_follows(session, [pair for pair, present in final.items() if present])
    removed = [pair for pair, present in final.items() if not present]
    if removed:
        session.execute(FOLLOWS.delete().where(
            tuple_(FOLLOWS.c.follower_id, FOLLOWS.c.followee_id).in_(removed)))


def _insert_follows(session, pairs) -> None:
    if pairs:
        session.execute(pg_insert(FOLLOWS).values(
            [{"follower_id": a, "followee_id": b} for a, b in pairs]).on_conflict_do_nothing())


FOLLOWS_PROJECTION = Projection(
    name="profiles-follows",
    apply=apply_follow_events,
    load_snapshot=lambda session, rows: _insert_follows(session, [_pair(row) for row in rows]),
    reset=lambda session: session.execute(FOLLOWS.delete()),
)
USERS_PROJECTION = users_projection(USERS)
# What /readyz of the articles API waits for.
PROJECTIONS = (USERS_PROJECTION.name, FOLLOWS_PROJECTION.name)

"""The read models articles keeps: auth's users (shared declaration) and profiles' follows."""
from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from conduit_common.events.model import Event
from conduit_common.events.projector import Projection, batch_rows
from conduit_common.events.users import users_projection

from conduit_articles.models import FOLLOWS, USERS

FOLLOW_ADDED = "FollowAdded"
FOLLOW_REMOVED = "FollowRemoved"


def _pair(data: dict) -> tuple[int, int]:
    return int(data["follower_id"]), int(data["followee_id"])


def follow_statements(events: list[Event]) -> list:
    """The last event per pair decides (feed order), then one insert and one delete:
    disjoint pairs, so they can run in one statement (Projection)."""
    final: dict[tuple[int, int], bool] = {}
    for event in events:
        if event.type in (FOLLOW_ADDED, FOLLOW_REMOVED):
            final[_pair(event.data)] = event.type == FOLLOW_ADDED
    statements = _insert_follows([pair for pair, present in final.items() if present])
    removed = [pair for pair, present in final.items() if not present]
    if removed:
        statements.append(FOLLOWS.delete().where(
            tuple_(FOLLOWS.c.follower_id, FOLLOWS.c.followee_id).in_(removed)))
    return statements


def _insert_follows(pairs) -> list:
    if not pairs:
        return []
    columns = (FOLLOWS.c.follower_id, FOLLOWS.c.followee_id)
    batch = batch_rows([{"follower_id": a, "followee_id": b} for a, b in pairs], *columns)
    return [pg_insert(FOLLOWS).from_select(
        [c.name for c in columns], select(batch.c.follower_id, batch.c.followee_id)
    ).on_conflict_do_nothing()]


def _load_follows(session, rows: list[dict]) -> None:
    for statement in _insert_follows([_pair(row) for row in rows]):
        session.execute(statement)


FOLLOWS_PROJECTION = Projection(
    name="profiles-follows",
    apply_statements=follow_statements,
    load_snapshot=_load_follows,
    reset=lambda session: session.execute(FOLLOWS.delete()),
)
USERS_PROJECTION = users_projection(USERS)
# What /readyz of the articles API waits for.
PROJECTIONS = (USERS_PROJECTION.name, FOLLOWS_PROJECTION.name)

"""The read models articles keeps: auth's users (shared declaration) and profiles' follows."""
from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from conduit_common.events.model import Event
from conduit_common.events.projector import Projection, batch_rows
from conduit_common.events.users import users_projection

from conduit_articles.models import FOLLOWS, USERS

FOLLOW_ADDED = "FollowAdded"
FOLLOW_REMOVED = "FollowRemoved"


def _pair(data: dict) -> tuple[int, int]:
    return int(data["follower_id"]), int(data["followee_id"])


def _follows_insert():
    columns = (FOLLOWS.c.follower_id, FOLLOWS.c.followee_id)
    batch = batch_rows("follows_added", *columns)
    return pg_insert(FOLLOWS).from_select(
        [c.name for c in columns], select(batch.c.follower_id, batch.c.followee_id)
    ).on_conflict_do_nothing()


# Built once (Projection): the rows to add as a JSON list, the pairs to remove as an
# expanding IN.
INSERT_FOLLOWS = _follows_insert()
DELETE_FOLLOWS = FOLLOWS.delete().where(
    tuple_(FOLLOWS.c.follower_id, FOLLOWS.c.followee_id).in_(
        bindparam("follows_removed", expanding=True)))


def _rows(pairs) -> list[dict]:
    return [{"follower_id": a, "followee_id": b} for a, b in pairs]


def follow_statements(events: list[Event]) -> list:
    """The last event per pair decides (feed order), then one insert and one delete:
    disjoint pairs, so they can run in one statement (Projection)."""
    final: dict[tuple[int, int], bool] = {}
    for event in events:
        if event.type in (FOLLOW_ADDED, FOLLOW_REMOVED):
            final[_pair(event.data)] = event.type == FOLLOW_ADDED
    added = [pair for pair, present in final.items() if present]
    removed = [pair for pair, present in final.items() if not present]
    parts = []
    if added:
        parts.append((INSERT_FOLLOWS, {"follows_added": _rows(added)}))
    if removed:
        parts.append((DELETE_FOLLOWS, {"follows_removed": removed}))
    return parts


def _load_follows(session, rows: list[dict]) -> None:
    if rows:
        session.execute(INSERT_FOLLOWS, {"follows_added": _rows(_pair(row) for row in rows)})


FOLLOWS_PROJECTION = Projection(
    name="profiles-follows",
    apply_statements=follow_statements,
    load_snapshot=_load_follows,
    reset=lambda session: session.execute(FOLLOWS.delete()),
)
USERS_PROJECTION = users_projection(USERS)
# What /readyz of the articles API waits for.
PROJECTIONS = (USERS_PROJECTION.name, FOLLOWS_PROJECTION.name)

"""The copy of auth's users that profiles and articles keep: table and projection.

Both consumers display users the same way, so the read model is declared once here.
Each event carries the user's whole public state and a version that auth raises on
every change; a row is only overwritten by a newer version, so replays, snapshots
overlapping the feed, and batches are all harmless.
"""
import functools

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from conduit_common.events.model import Event
from conduit_common.events.projector import Projection, batch_rows

USER_EVENTS = frozenset({"UserRegistered", "UserChanged"})
USER_FIELDS = ("id", "username", "bio", "image", "version", "token_version")


def users_table(metadata: MetaData) -> Table:
    return Table(
        "users", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=False),
        Column("username", Text, nullable=False),
        Column("bio", Text),
        Column("image", Text),
        Column("version", BigInteger, nullable=False),
        Column("token_version", Integer, nullable=False, server_default=sa.text("0")),
        # Not unique: a snapshot read over several pages can briefly hold two users
        # with one name (a rename and a re-use between pages) until the feed catches up.
        Index("ix_users_lower_username", func.lower(sa.text("username"))),
    )


def _newest_per_user(rows) -> list[dict]:
    """One row per id, the highest version: one INSERT may touch a row only once."""
    newest: dict[int, dict] = {}
    for row in rows:
        user = {field: row.get(field) for field in USER_FIELDS}
        user["id"], user["version"] = int(user["id"]), int(user["version"])
        user["token_version"] = int(user["token_version"] or 0)
        if user["id"] not in newest or newest[user["id"]]["version"] < user["version"]:
            newest[user["id"]] = user
    return list(newest.values())


@functools.cache
def users_upsert(table: Table):
    """The upsert of a batch of users (bound to `users`: a list of rows as dicts):
    newer versions overwrite, older ones are no-ops. Built once per table."""
    batch = batch_rows("users", *(table.c[field] for field in USER_FIELDS))
    statement = pg_insert(table).from_select(
        USER_FIELDS, select(*(batch.c[field] for field in USER_FIELDS)))
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={field: excluded[field] for field in USER_FIELDS if field != "id"},
        where=table.c.version < excluded.version)


def upsert_users(session, table: Table, rows) -> None:
    """Land users' rows (dicts, as events and snapshots carry them) in a users table,
    the newest version per user winning."""
    users = _newest_per_user(rows)
    if users:
        session.execute(users_upsert(table), {"users": users})


def users_projection(table: Table, name: str = "auth-users") -> Projection:
    upsert = users_upsert(table)

    def apply_statements(events: list[Event]) -> list:
        users = _newest_per_user(e.data for e in events if e.type in USER_EVENTS)
        return [(upsert, {"users": users})] if users else []

    def load_snapshot(session, rows: list[dict]) -> None:
        upsert_users(session, table, rows)

    def reset(session) -> None:
        session.execute(table.delete())

    return Projection(name=name, apply_statements=apply_statements,
                      load_snapshot=load_snapshot, reset=reset)

"""A projector's batch statements are built once and take each batch as values.

SQLAlchemy caches a statement's compiled SQL under its cache key; a statement without
one (a multi-row VALUES) is compiled again on every execution, and a statement built
anew per batch has its key computed again. What the rows do in Postgres is tested
through the projectors (test_events, the services' contract tests, tests/e2e).
"""
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql

from conduit_common.events.model import Event, Position
from conduit_common.events.users import users_projection, users_table

USERS = users_table(MetaData(schema="consumer"))


def changed(id_, version=1):
    return Event(Position(version), "UserChanged", {
        "id": id_, "username": f"u{id_}", "bio": None, "image": None, "version": version,
        "token_version": 0})


def test_every_users_batch_is_one_cacheable_statement_with_its_rows_as_values():
    projection = users_projection(USERS)
    batches = [projection.apply_statements([changed(i) for i in range(1, n + 1)])
               for n in (1, 2, 7)]
    statements = {id(statement) for batch in batches for statement, _ in batch}
    assert len(statements) == 1
    statement = batches[0][0][0]
    assert statement._generate_cache_key() is not None
    assert "jsonb_to_recordset" in str(statement.compile(dialect=postgresql.dialect()))
    assert [len(values["users"]) for batch in batches for _, values in batch] == [1, 2, 7]


def test_a_users_batch_keeps_the_newest_version_per_user():
    (_, values), = users_projection(USERS).apply_statements(
        [changed(1, 1), changed(2, 1), changed(1, 3)])
    assert sorted((row["id"], row["version"]) for row in values["users"]) == [(1, 3), (2, 1)]


def test_events_of_other_types_make_no_statement():
    assert users_projection(USERS).apply_statements(
        [Event(Position(1), "SomethingElse", {})]) == []

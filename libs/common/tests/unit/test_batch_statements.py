"""A projector's batch statement has one compiled form whatever the batch's size.

SQLAlchemy caches a statement's compiled SQL under its cache key; a statement without
one (a multi-row VALUES) is compiled again on every execution. What the rows do in
Postgres is tested through the projectors (services' contract tests, tests/e2e).
"""
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql

from conduit_common.events.users import upsert_users_statements, users_table

USERS = users_table(MetaData(schema="consumer"))


def user(id_, version=1):
    return {"id": id_, "username": f"u{id_}", "bio": None, "image": None,
            "version": version, "token_version": 0}


def test_a_users_batch_of_any_size_has_one_cache_key():
    keys = [upsert_users_statements(USERS, [user(i) for i in range(n)])[0]._generate_cache_key()
            for n in (1, 2, 7)]
    assert None not in keys
    assert keys[0].key == keys[1].key == keys[2].key


def test_a_users_batch_sends_its_rows_as_one_parameter_newest_version_per_user():
    statement = upsert_users_statements(USERS, [user(1, 1), user(2), user(1, 3)])[0]
    compiled = statement.compile(dialect=postgresql.dialect())
    (rows,) = compiled.params.values()
    assert sorted((r["id"], r["version"]) for r in rows) == [(1, 3), (2, 1)]
    assert "jsonb_to_recordset" in str(compiled)

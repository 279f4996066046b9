"""TokenVersions: refuses tokens older than the user's version, caching for its TTL."""
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table

from conduit_common.revocation import TokenVersions, version_column
from conduit_common.tokens import Identity

USERS = Table("users", MetaData(), Column("id", BigInteger, primary_key=True),
              Column("token_version", Integer))


class FakeSession:
    def __init__(self, versions):
        self.versions = versions
        self.queries = 0

    def execute(self, statement, params):
        self.queries += 1
        version = self.versions.get(params["id"])
        return type("Result", (), {"scalar": lambda self: version})()


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def test_a_token_of_the_current_version_passes_and_an_older_one_does_not():
    session = FakeSession({1: 2})
    versions = TokenVersions(version_column(USERS))

    assert versions.is_current(session, Identity(1, "jake", token_version=2))
    assert not versions.is_current(session, Identity(1, "jake", token_version=1))


def test_an_unknown_user_is_not_refused():
    assert TokenVersions(version_column(USERS)).is_current(FakeSession({}), Identity(9, "new", 0))


def test_the_version_is_cached_for_the_ttl_then_asked_again():
    session, clock = FakeSession({1: 0}), Clock()
    versions = TokenVersions(version_column(USERS), ttl=1.0, clock=clock)
    assert versions.is_current(session, Identity(1, "jake", 0))

    session.versions[1] = 1                     # revoked in the meantime
    still_cached = versions.is_current(session, Identity(1, "jake", 0))
    clock.now += 1.5
    refused = not versions.is_current(session, Identity(1, "jake", 0))

    assert still_cached and refused
    assert session.queries == 2


def test_without_a_ttl_every_check_asks():
    session = FakeSession({1: 0})
    versions = TokenVersions(version_column(USERS), ttl=0)
    for _ in range(3):
        versions.is_current(session, Identity(1, "jake", 0))
    assert session.queries == 3


def test_a_lookup_of_its_own_decides_where_the_version_comes_from():
    asked = []

    def lookup(session, user_id):
        asked.append(user_id)
        return {1: 3}.get(user_id)

    versions = TokenVersions(lookup)
    assert not versions.is_current(object(), Identity(1, "jake", token_version=2))
    assert versions.is_current(object(), Identity(2, "new", token_version=0))
    assert asked == [1, 2]

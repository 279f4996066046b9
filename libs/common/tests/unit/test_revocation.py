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
        row = None if version is None else type("Row", (), {"token_version": version})()
        return type("Result", (), {"first": lambda self: row})()


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def test_a_token_of_the_current_version_passes_and_an_older_one_does_not():
    session = FakeSession({1: 2})
    versions = TokenVersions(version_column(USERS))

    assert versions.check(session, Identity(1, "jake", token_version=2))[0]
    assert not versions.check(session, Identity(1, "jake", token_version=1))[0]


def test_an_unknown_user_is_not_refused():
    versions = TokenVersions(version_column(USERS))
    assert versions.check(FakeSession({}), Identity(9, "new", 0)) == (True, None)


def test_the_version_is_cached_for_the_ttl_then_asked_again():
    session, clock = FakeSession({1: 0}), Clock()
    versions = TokenVersions(version_column(USERS), ttl=1.0, clock=clock)
    assert versions.check(session, Identity(1, "jake", 0))[0]

    session.versions[1] = 1                     # revoked in the meantime
    still_cached = versions.check(session, Identity(1, "jake", 0))[0]
    clock.now += 1.5
    refused = not versions.check(session, Identity(1, "jake", 0))[0]

    assert still_cached and refused
    assert session.queries == 2


def test_without_a_ttl_every_check_asks():
    session = FakeSession({1: 0})
    versions = TokenVersions(version_column(USERS), ttl=0)
    for _ in range(3):
        versions.check(session, Identity(1, "jake", 0))
    assert session.queries == 3


def test_a_lookup_of_its_own_decides_where_the_record_comes_from_and_hands_it_on():
    asked = []
    jake = type("User", (), {"token_version": 3, "username": "jake"})()

    def lookup(session, user_id):
        asked.append(user_id)
        return {1: jake}.get(user_id)

    versions = TokenVersions(lookup)
    assert versions.check(object(), Identity(1, "jake", token_version=2)) == (False, jake)
    assert versions.check(object(), Identity(1, "jake", token_version=3)) == (True, jake)
    assert versions.check(object(), Identity(2, "new", token_version=0)) == (True, None)
    assert asked == [1, 1, 2]


def test_a_version_served_from_the_cache_hands_on_no_record():
    session, clock = FakeSession({1: 0}), Clock()
    versions = TokenVersions(version_column(USERS), ttl=1.0, clock=clock)
    first = versions.check(session, Identity(1, "jake", 0))
    second = versions.check(session, Identity(1, "jake", 0))
    assert first[0] and first[1].token_version == 0
    assert second == (True, None)

"""Fixtures of the profiles tests: a migrated database, fakes of auth and follows, tokens."""
from pathlib import Path

import pytest
from falcon import testing

from conduit_common.testing.fixtures import MigratedSchema
from conduit_common.tokens import TokenCodec
from conduit_profiles.app import create_app
from conduit_profiles.clients import User
from conduit_profiles.config import ProfilesSettings

SERVICE_DIR = Path(__file__).resolve().parents[1]
ALEMBIC_INI = SERVICE_DIR / "alembic.ini"
TEST_SECRET = "profiles-test-secret-0123456789-abcdef"


class FakeAuthClient:
    """In-memory auth: users by id and case-insensitive name; records every call."""

    def __init__(self):
        self.users: dict[int, User] = {}
        self.calls: list[tuple[str, object]] = []

    def add(self, user_id: int, username: str, bio: str | None = None,
            image: str | None = None) -> User:
        user = User(id=user_id, username=username, bio=bio, image=image)
        self.users[user_id] = user
        return user

    def users_by_ids(self, ids):
        self.calls.append(("ids", list(ids)))
        return [self.users[i] for i in ids if i in self.users]

    def user_by_username(self, username):
        self.calls.append(("username", username))
        matches = [u for u in self.users.values() if u.username.lower() == username.lower()]
        return matches[0] if matches else None


class FakeFollows:
    """In-memory FollowRepository."""

    def __init__(self):
        self.pairs: set[tuple[int, int]] = set()

    def follow(self, follower_id, followee_id):
        self.pairs.add((follower_id, followee_id))

    def unfollow(self, follower_id, followee_id):
        self.pairs.discard((follower_id, followee_id))

    def followed_among(self, follower_id, candidate_ids):
        return {i for i in candidate_ids if (follower_id, i) in self.pairs}

    def followee_ids(self, follower_id):
        return sorted(b for a, b in self.pairs if a == follower_id)


@pytest.fixture
def fake_auth():
    return FakeAuthClient()


@pytest.fixture
def fake_follows():
    return FakeFollows()


@pytest.fixture(scope="session")
def profiles_schema(conduit_database):
    with MigratedSchema(conduit_database, "profiles", ALEMBIC_INI, pool_size=2,
                        application_name="profiles-tests") as schema:
        yield schema


@pytest.fixture(scope="session")
def profiles_database_url(profiles_schema):
    return profiles_schema.url


@pytest.fixture
def engine(profiles_schema):
    """The profiles engine on empty tables."""
    return profiles_schema.emptied()


@pytest.fixture(scope="session")
def secret():
    """CONDUIT_SECRET of every app in these tests (auth's too, in contract tests)."""
    return TEST_SECRET


@pytest.fixture
def settings(profiles_database_url, secret):
    return ProfilesSettings(secret=secret, database_url=profiles_database_url,
                            auth_service_url="http://auth.invalid",
                            downstream_timeout_seconds=0.3)


@pytest.fixture
def token_for(secret):
    """token_for(user) -> the Authorization header value of that user."""
    codec = TokenCodec(secret)
    return lambda user: f"Token {codec.issue(user.id, user.username)}"


@pytest.fixture
def client(settings, engine, fake_auth):
    """The app over the real database, with auth faked."""
    return testing.TestClient(create_app(settings, engine=engine, auth_client=fake_auth))

"""Fixtures of the profiles tests: a migrated database, in-memory fakes, tokens, users."""
from dataclasses import replace
from pathlib import Path

import pytest
from falcon import testing

from conduit_common.db import SessionManager
from conduit_common.events.users import upsert_users
from conduit_common.testing.fixtures import MigratedSchema
from conduit_common.testing.keys import SERVICE_PUBLIC_KEYS, USER_TOKEN_KEYS, issuing_codec
from conduit_profiles.app import create_app
from conduit_profiles.config import ProfilesSettings
from conduit_profiles.models import USERS
from conduit_profiles.repository import Profile

SERVICE_DIR = Path(__file__).resolve().parents[1]
ALEMBIC_INI = SERVICE_DIR / "alembic.ini"


class FakeProfiles:
    """In-memory ProfileRepository over a list of users and a FakeFollows."""

    def __init__(self, follows):
        self.users: dict[int, Profile] = {}
        self._follows = follows

    def add(self, user_id: int, username: str, bio=None, image=None) -> Profile:
        self.users[user_id] = Profile(user_id, username, bio, image, following=False)
        return self.users[user_id]

    def by_username(self, username, viewer_id):
        user = next((u for u in self.users.values() if u.username.lower() == username.lower()),
                    None)
        if user is None:
            return None
        return replace(user, following=(viewer_id, user.id) in self._follows.pairs)


class FakeFollows:
    """In-memory FollowRepository."""

    def __init__(self):
        self.pairs: set[tuple[int, int]] = set()

    def follow(self, follower_id, followee_id):
        self.pairs.add((follower_id, followee_id))

    def unfollow(self, follower_id, followee_id):
        self.pairs.discard((follower_id, followee_id))


@pytest.fixture
def fake_follows():
    return FakeFollows()


@pytest.fixture
def fake_profiles(fake_follows):
    return FakeProfiles(fake_follows)


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


@pytest.fixture
def settings(profiles_database_url):
    """Verifies the test user-token key (conduit_common.testing.keys); trusts articles'
    service key on its internal API, as deployed."""
    return ProfilesSettings(jwt_public_keys=USER_TOKEN_KEYS, database_url=profiles_database_url,
                            service_public_keys=SERVICE_PUBLIC_KEYS)


@pytest.fixture
def seed_user(engine):
    """Put a user into the read model the way the projector does (version 1)."""
    sessions = SessionManager(engine)

    def seed(user_id: int, username: str, bio=None, image=None) -> Profile:
        with sessions.session() as session:
            upsert_users(session, USERS, [{"id": user_id, "username": username, "bio": bio,
                                           "image": image, "version": 1, "token_version": 0}])
        return Profile(user_id, username, bio, image, following=False)

    return seed


@pytest.fixture
def token_for():
    """token_for(user) -> the Authorization header value of that user (as auth signs it)."""
    codec = issuing_codec()
    return lambda user: f"Token {codec.issue(user.id, user.username)}"


@pytest.fixture
def client(settings, engine):
    """The app over the real database."""
    return testing.TestClient(create_app(settings, engine=engine))

"""Fixtures of the articles tests: the test database, fake peers and factories.

Test modules never import each other (importlib mode), so every shared helper is
a fixture here.
"""
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from falcon import testing

from conduit_common.db import SessionManager
from conduit_common.errors import DependencyUnavailable
from conduit_common.testing.fixtures import MigratedSchema
from conduit_common.tokens import TokenCodec

from conduit_articles.app import create_app
from conduit_articles.clients import AuthClient, ProfilesClient
from conduit_articles.config import ArticlesSettings
from conduit_articles.repository import ArticleRepository

SERVICE_DIR = Path(__file__).resolve().parents[1]
ALEMBIC_INI = SERVICE_DIR / "alembic.ini"
SECRET = "articles-tests-secret-0123456789abcdef"


# Database


@pytest.fixture(scope="session")
def articles_schema(conduit_database):
    with MigratedSchema(conduit_database, "articles", ALEMBIC_INI, pool_size=25,
                        application_name="tests") as schema:
        yield schema


@pytest.fixture(scope="session")
def articles_database_url(articles_schema):
    return articles_schema.url


@pytest.fixture
def engine(articles_schema):
    """The articles engine on an empty schema."""
    return articles_schema.emptied()


@pytest.fixture
def sessions(engine):
    return SessionManager(engine)


@pytest.fixture
def seed_article(sessions):
    """Write an article straight through the repository; returns its id."""
    counter = itertools.count(1)

    def seed(author_id=1, title=None, tags=(), slug=None, body="body"):
        number = next(counter)
        title = title or f"Article {number}"
        with sessions.session() as session:
            repository = ArticleRepository(session)
            article_id = repository.insert(slug=slug or f"article-{number}", author_id=author_id,
                                           title=title, description=f"about {title}", body=body)
            repository.set_tags(article_id, sorted(set(tags)))
        return article_id

    return seed


# Fake peers: the real clients over an in-memory transport that counts calls


@dataclass
class Directory:
    """What auth and profiles would know: users and who follows whom."""

    users: dict = field(default_factory=dict)
    follows: set = field(default_factory=set)

    def add(self, username, bio=None, image=None) -> int:
        user_id = len(self.users) + 1
        self.users[user_id] = {"id": user_id, "username": username, "bio": bio, "image": image}
        return user_id


class FakePeer:
    """Stands in for InternalClient: answers the internal API, records each call."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self.calls: list[tuple[str, dict]] = []
        self.down = False

    def get_json(self, path, params=None):
        self.calls.append((path, dict(params or {})))
        if self.down:
            raise DependencyUnavailable("peer service is unavailable, try again later")
        return getattr(self, path.strip("/").replace("/", "_"))(params)

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def internal_users(self, params):
        names = {name.lower() for name in params.get("username", [])}
        ids = set(params.get("id", []))
        return {"users": [dict(u) for u in self.directory.users.values()
                          if u["username"].lower() in names or u["id"] in ids]}

    def internal_profiles(self, params):
        viewer = params.get("viewer")
        return {"profiles": [
            {**self.directory.users[user_id],
             "following": (viewer, user_id) in self.directory.follows}
            for user_id in params["id"] if user_id in self.directory.users]}

    def internal_following(self, params):
        follower = params["follower"]
        return {"ids": sorted(f for v, f in self.directory.follows if v == follower)}


@pytest.fixture
def directory():
    return Directory()


@pytest.fixture
def auth_peer(directory):
    return FakePeer(directory)


@pytest.fixture
def profiles_peer(directory):
    return FakePeer(directory)


@pytest.fixture
def settings(articles_database_url):
    return ArticlesSettings(secret=SECRET, database_url=articles_database_url,
                            auth_service_url="http://auth.invalid",
                            profiles_service_url="http://profiles.invalid")


@pytest.fixture
def client(settings, engine, auth_peer, profiles_peer):
    app = create_app(settings, engine=engine, auth_client=AuthClient(auth_peer),
                     profiles_client=ProfilesClient(profiles_peer))
    return testing.TestClient(app)


@dataclass
class User:
    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Token {self.token}"}


@pytest.fixture
def make_user(directory):
    """A user known to the fake peers, with a valid token."""
    codec = TokenCodec(SECRET)

    def make(username, bio=None, image=None) -> User:
        user_id = directory.add(username, bio, image)
        return User(user_id, username, codec.issue(user_id, username))

    return make


@pytest.fixture
def post_article(client):
    """Create an article through the API as `user`; returns the article JSON."""
    def post(user, title="How to train your dragon", tags=("training", "dragons"), **extra):
        article = {"title": title, "description": "Ever wonder how?",
                   "body": "Very carefully.", "tagList": list(tags), **extra}
        result = client.simulate_post("/api/articles", json={"article": article},
                                      headers=user.headers)
        assert result.status_code == 201, result.json
        return result.json["article"]

    return post

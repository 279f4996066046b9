"""Fixtures of the articles tests: the test database, its read models and factories.

Test modules never import each other (importlib mode), so every shared helper is
a fixture here.
"""
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy
from falcon import testing

from conduit_common.db import SessionManager
from conduit_common.events.model import START, Event
from conduit_common.events.users import upsert_users
from conduit_common.testing.fixtures import MigratedSchema
from conduit_common.testing.keys import USER_TOKEN_KEYS, issuing_codec

from conduit_articles.app import create_app
from conduit_articles.config import ArticlesSettings
from conduit_articles.models import USERS
from conduit_articles.projections import FOLLOW_ADDED, FOLLOW_REMOVED, follow_statements
from conduit_articles.repository import ArticleRef, ArticleRepository

SERVICE_DIR = Path(__file__).resolve().parents[1]
ALEMBIC_INI = SERVICE_DIR / "alembic.ini"


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
            article_id, created_at = repository.insert(
                slug=slug or f"article-{number}", author_id=author_id, title=title,
                description=f"about {title}", body=body)
            repository.set_tags(ArticleRef(article_id, "", title, author_id, created_at, []),
                                sorted(set(tags)))
        return article_id

    return seed


# The maintained counts, checked against (or rebuilt from) the rows they count

BRUTE_FORCE_COUNTS = """
    SELECT 'all', 0, count(*) FROM articles.articles
    UNION ALL SELECT 'author', author_id, count(*) FROM articles.articles GROUP BY author_id
    UNION ALL SELECT 'tag', tag_id, count(*) FROM articles.article_tags GROUP BY tag_id
    UNION ALL SELECT 'favoriter', user_id, count(*) FROM articles.favorites GROUP BY user_id"""
BRUTE_FORCE_LATEST = """
    SELECT author_id AS key, max(created_at) AS latest_at FROM articles.articles
    GROUP BY author_id"""


@pytest.fixture
def counts(engine):
    """`article_counts` as stored, as recounted from scratch, and rebuilt after bulk SQL."""
    return Counts(engine)


class Counts:
    def __init__(self, engine):
        self._engine = engine

    def _read(self, sql) -> dict:
        with self._engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text(sql)).all()
        return {(kind, key): count for kind, key, count in rows if count}

    def stored(self) -> dict:
        """The non-zero counts (a zero row and a missing row answer the same)."""
        return self._read("SELECT kind, key, count FROM articles.article_counts")

    def brute_force(self) -> dict:
        return self._read(BRUTE_FORCE_COUNTS)

    def latest(self) -> dict:
        """Each author's `latest_at`, as stored and as found over the articles."""
        with self._engine.connect() as connection:
            stored = dict(connection.execute(sqlalchemy.text(
                "SELECT key, latest_at FROM articles.article_counts"
                " WHERE kind = 'author' AND latest_at IS NOT NULL")).all())
            found = dict(connection.execute(sqlalchemy.text(BRUTE_FORCE_LATEST)).all())
        return {"stored": stored, "found": found}

    def stale_follow_copies(self) -> list:
        """The follows rows whose copy of their followee's author count row differs from
        that row (a missing row counts as 0 articles, no newest time): none, ever."""
        with self._engine.connect() as connection:
            return connection.execute(sqlalchemy.text(
                "SELECT f.follower_id, f.followee_id, f.followee_articles,"
                "       f.followee_latest_at, c.count, c.latest_at"
                "  FROM articles.follows f LEFT JOIN articles.article_counts c"
                "    ON c.kind = 'author' AND c.key = f.followee_id"
                " WHERE (f.followee_articles, f.followee_latest_at)"
                "       IS DISTINCT FROM (coalesce(c.count, 0), c.latest_at)")).all()

    def rebuild(self) -> None:
        """Derive the copies and counts the repository keeps from rows written in bulk
        (the follows rows' copies of the counts follow by trigger)."""
        with self._engine.begin() as connection:
            connection.execute(sqlalchemy.text(
                "UPDATE articles.articles a SET"
                " tag_list = coalesce((SELECT array_agg(t.name ORDER BY t.name)"
                "   FROM articles.article_tags at JOIN articles.tags t ON t.id = at.tag_id"
                "   WHERE at.article_id = a.id), '{}'),"
                " favorites_count = (SELECT count(*) FROM articles.favorites f"
                "   WHERE f.article_id = a.id)"))
            connection.execute(sqlalchemy.text("DELETE FROM articles.article_counts"))
            connection.execute(sqlalchemy.text(
                "INSERT INTO articles.article_counts (kind, key, count) " + BRUTE_FORCE_COUNTS))
            connection.execute(sqlalchemy.text(
                "UPDATE articles.article_counts c SET latest_at = l.latest_at"
                f" FROM ({BRUTE_FORCE_LATEST}) l WHERE c.kind = 'author' AND c.key = l.key"))


# Users and follows: written into the read models the way the projector writes them


@pytest.fixture
def directory(sessions):
    """The users and follows this service knows, seeded straight into its read models."""
    return ReadModels(sessions)


class ReadModels:
    def __init__(self, sessions):
        self._sessions = sessions
        self._ids = itertools.count(1)

    def add(self, username, bio=None, image=None, user_id=None, version=1) -> int:
        user_id = user_id or next(self._ids)
        with self._sessions.session() as session:
            upsert_users(session, USERS, [{"id": user_id, "username": username, "bio": bio,
                                           "image": image, "version": version,
                                           "token_version": 0}])
        return user_id

    def follow(self, follower_id, followee_id, present=True) -> None:
        kind = FOLLOW_ADDED if present else FOLLOW_REMOVED
        event = Event(START, kind, {"follower_id": follower_id, "followee_id": followee_id})
        with self._sessions.session() as session:
            for statement, values in follow_statements([event]):
                session.execute(statement, values)


@pytest.fixture
def settings(articles_database_url):
    return ArticlesSettings(jwt_public_keys=USER_TOKEN_KEYS, database_url=articles_database_url)


@pytest.fixture
def client(settings, engine):
    return testing.TestClient(create_app(settings, engine=engine))


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
    """A user in the users read model, with a valid token."""
    codec = issuing_codec()   # tokens as auth signs them

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


@pytest.fixture
def warm_token_check(client):
    """warm_token_check(headers): one signed-in request, after which the viewer's token
    check is cached (1 s): what a test counts afterwards is the read itself."""
    return lambda headers: client.simulate_get("/api/articles", query_string="limit=1",
                                               headers=headers)

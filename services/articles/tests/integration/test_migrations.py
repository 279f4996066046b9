"""Migrations: upgrade and downgrade work, as the schema's owner role, and match the
models; the runtime role keeps its DML on what they make."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conduit_common.migrations import downgrade, upgrade
from conduit_common.testing import postgres

from conduit_articles.models import metadata

ALEMBIC_INI = __import__("pathlib").Path(__file__).resolve().parents[2] / "alembic.ini"
TABLES = {"alembic_version", "articles", "tags", "article_tags", "favorites", "comments",
          "article_counts", "users", "follows", "projection_positions"}


@pytest.fixture
def fresh_database(postgres_admin_url):
    database = postgres.create_test_database(postgres_admin_url)
    yield database
    postgres.drop_database(database)


def tables_and_owners(url):
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'articles'")).all()
    engine.dispose()
    return dict(rows)


def test_upgrade_creates_every_table_owned_by_the_owner_role_and_downgrade_removes_them(
        fresh_database):
    url = fresh_database.owner_url_for("articles")
    upgrade(ALEMBIC_INI, url)
    owners = tables_and_owners(url)
    assert set(owners) == TABLES
    assert set(owners.values()) == {"conduit_articles_owner"}
    downgrade(ALEMBIC_INI, url)
    assert set(tables_and_owners(url)) == {"alembic_version"}
    upgrade(ALEMBIC_INI, url)
    assert set(tables_and_owners(url)) == TABLES


def test_migrated_schema_matches_the_models(articles_database_url):
    # With the role's search_path (= articles) Alembic would treat "articles" as the
    # default schema and compare it as schema None; a neutral search_path avoids that.
    engine = sqlalchemy.create_engine(articles_database_url,
                                      connect_args={"options": "-c search_path=public"})
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "version_table_schema": "articles",
            "include_name": lambda name, type_, parents: type_ != "schema" or name == "articles",
        })
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_the_articles_role_cannot_read_another_schema(articles_database_url):
    engine = sqlalchemy.create_engine(articles_database_url)
    with engine.connect() as connection, pytest.raises(sqlalchemy.exc.ProgrammingError):
        connection.execute(sqlalchemy.text("SELECT count(*) FROM auth.users"))
    engine.dispose()


def test_upgrading_existing_data_fills_the_copies_and_the_counts(fresh_database):
    """Rows the service (its runtime role) wrote at 0001, migrated by the owner; the
    runtime role then reads what the later revision made."""
    owner_url = fresh_database.owner_url_for("articles")
    upgrade(ALEMBIC_INI, owner_url, "0001")
    engine = sqlalchemy.create_engine(fresh_database.url_for("articles"))
    with engine.begin() as connection:
        for statement in (
                "INSERT INTO articles.articles (slug, title, description, body, author_id) "
                "VALUES ('a', 'A', 'd', 'b', 1), ('b', 'B', 'd', 'b', 1), ('c', 'C', 'd', 'b', 2)",
                "INSERT INTO articles.tags (name) VALUES ('zeta'), ('alpha')",
                "INSERT INTO articles.article_tags (article_id, tag_id) "
                "SELECT a.id, t.id FROM articles.articles a, articles.tags t "
                "WHERE a.slug = 'a' OR (a.slug = 'b' AND t.name = 'zeta')",
                "INSERT INTO articles.favorites (user_id, article_id) "
                "SELECT 9, id FROM articles.articles WHERE slug IN ('a', 'c')"):
            connection.execute(sqlalchemy.text(statement))
    upgrade(ALEMBIC_INI, owner_url)
    with engine.connect() as connection:
        tag_lists = dict(connection.execute(sqlalchemy.text(
            "SELECT slug, tag_list FROM articles.articles")).all())
        counts = {(kind, key): count for kind, key, count in connection.execute(sqlalchemy.text(
            "SELECT c.kind, coalesce(t.name, c.key::text), c.count FROM articles.article_counts c"
            " LEFT JOIN articles.tags t ON c.kind = 'tag' AND t.id = c.key")).all()}
        copies_differ = connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM articles.articles a JOIN articles.article_tags at"
            " ON at.article_id = a.id LEFT JOIN articles.favorites f ON f.article_id = a.id"
            " WHERE at.created_at <> a.created_at OR f.article_created_at <> a.created_at"
        )).scalar_one()
    engine.dispose()
    assert tag_lists == {"a": ["alpha", "zeta"], "b": ["zeta"], "c": []}
    assert counts == {("all", "0"): 3, ("author", "1"): 2, ("author", "2"): 1,
                      ("tag", "zeta"): 2, ("tag", "alpha"): 1, ("favoriter", "9"): 2}
    assert copies_differ == 0


NOV_1 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def test_upgrading_existing_follows_copies_their_followees_counts_onto_them(fresh_database):
    """Follows rows and counts written at 0004; after 0005 every follows row carries its
    followee's count and newest time, and the triggers keep them from then on."""
    owner_url = fresh_database.owner_url_for("articles")
    upgrade(ALEMBIC_INI, owner_url, "0004")
    engine = sqlalchemy.create_engine(fresh_database.url_for("articles"))
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_counts (kind, key, count, latest_at) VALUES"
            " ('author', 1, 2, timestamptz '2026-11-01 00:00+00'), ('tag', 2, 5, NULL)"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.follows (follower_id, followee_id) VALUES (7, 1), (7, 2)"))
    upgrade(ALEMBIC_INI, owner_url)

    def copies():
        with engine.connect() as connection:
            return {row.followee_id: (row.followee_articles, row.followee_latest_at)
                    for row in connection.execute(sqlalchemy.text(
                        "SELECT followee_id, followee_articles, followee_latest_at"
                        " FROM articles.follows WHERE follower_id = 7"))}

    # author 2 has no count row (a 'tag' row with key 2 is not theirs)
    assert copies() == {1: (2, NOV_1), 2: (0, None)}
    with engine.begin() as connection:   # what an article write does, as the runtime role
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_counts (kind, key, count, latest_at)"
            " VALUES ('author', 2, 1, timestamptz '2026-11-02 00:00+00')"))
        connection.execute(sqlalchemy.text(
            "UPDATE articles.article_counts SET count = 3 WHERE kind = 'author' AND key = 1"))
    assert copies() == {1: (3, NOV_1), 2: (1, NOV_1 + timedelta(days=1))}
    engine.dispose()

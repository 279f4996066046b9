"""A page costs the same few statements whatever its size: no per-row query."""
import sqlalchemy

from conduit_common.testing.counting import counting_statements

from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import ArticleRepository

ARTICLES = 120


def seed_many(engine):
    """120 articles with two tags each and a favorite on every other one, in bulk."""
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.articles (slug, title, description, body, author_id) "
            "SELECT 'a-' || n, 'A ' || n, 'd', 'b', n % 7 + 1 FROM generate_series(1, :n) n"),
            {"n": ARTICLES})
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.tags (name) VALUES ('even'), ('odd'), ('all')"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_tags (article_id, tag_id) "
            "SELECT a.id, t.id FROM articles.articles a JOIN articles.tags t "
            "ON t.name = 'all' OR t.name = CASE WHEN a.id % 2 = 0 THEN 'even' ELSE 'odd' END"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.favorites (user_id, article_id) "
            "SELECT 42, id FROM articles.articles WHERE id % 2 = 0"))


def statements_for_page(engine, sessions, filters, limit):
    with sessions.session() as session:
        repository = ArticleRepository(session)
        with counting_statements(engine) as log:
            rows, total = repository.page(filters, 42, limit, 0)
    return log, rows, total


def test_page_of_20_and_page_of_100_run_the_same_two_statements(engine, sessions):
    seed_many(engine)
    small, rows20, _ = statements_for_page(engine, sessions, ArticleFilter(), 20)
    large, rows100, total = statements_for_page(engine, sessions, ArticleFilter(), 100)
    assert (len(rows20), len(rows100), total) == (20, 100, ARTICLES)
    assert small.count == large.count == 2
    assert all(row.tag_list and row.favorited == (row.id % 2 == 0) for row in rows100)


def test_every_filter_together_still_runs_two_statements(engine, sessions):
    seed_many(engine)
    filters = ArticleFilter(tag="even", author_ids=(1, 2, 3, 4, 5, 6, 7), favorited_by=42)
    log, rows, total = statements_for_page(engine, sessions, filters, 100)
    assert log.count == 2
    assert total == ARTICLES // 2 and len(rows) == ARTICLES // 2

"""A page costs the same few statements whatever its size and filter: no per-row query."""
import pytest
import sqlalchemy

from conduit_common.testing.counting import counting_statements

from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import ArticleRepository

ARTICLES = 120
VIEWER = 42


def seed_many(engine, counts, directory):
    """120 articles by 7 authors with two tags each and a favorite on every other one."""
    for author in range(1, 8):
        directory.add(f"u{author}", user_id=author)
    directory.add("viewer", user_id=VIEWER)
    for author in (1, 2, 3):
        directory.follow(VIEWER, author)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.articles (slug, title, description, body, author_id) "
            "SELECT 'a-' || n, 'A ' || n, 'd', 'b', n % 7 + 1 FROM generate_series(1, :n) n"),
            {"n": ARTICLES})
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.tags (name) VALUES ('even'), ('odd'), ('all')"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_tags (article_id, tag_id, created_at) "
            "SELECT a.id, t.id, a.created_at FROM articles.articles a JOIN articles.tags t "
            "ON t.name = 'all' OR t.name = CASE WHEN a.id % 2 = 0 THEN 'even' ELSE 'odd' END"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.favorites (user_id, article_id, article_created_at) "
            "SELECT :viewer, id, created_at FROM articles.articles WHERE id % 2 = 0"),
            {"viewer": VIEWER})
    counts.rebuild()


def brute_force(engine, where):
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text(
            f"SELECT count(*) FROM articles.articles a WHERE {where}"),
            {"viewer": VIEWER}).scalar_one()


def statements_for_page(engine, sessions, filters, limit):
    with sessions.session() as session:
        repository = ArticleRepository(session)
        with counting_statements(engine) as log:
            rows, total = repository.page(filters, VIEWER, limit, 0)
    return log, rows, total


FILTERS = [
    (ArticleFilter(), "true"),
    (ArticleFilter(tag="even"), "a.id % 2 = 0"),
    (ArticleFilter(author="U3"), "a.author_id = 3"),
    (ArticleFilter(favorited="viewer"), "a.id % 2 = 0"),
    (ArticleFilter(feed_of=VIEWER), "a.author_id IN (1, 2, 3)"),
    (ArticleFilter(tag="all", author="u1"), "a.author_id = 1"),
    (ArticleFilter(tag="odd", favorited="viewer"), "false"),
    (ArticleFilter(tag="even", author="u2", favorited="viewer"),
     "a.author_id = 2 AND a.id % 2 = 0"),
]


@pytest.mark.parametrize("filters, where", FILTERS, ids=[repr(f) for f, _ in FILTERS])
def test_page_of_20_and_page_of_100_run_the_same_one_statement(
        engine, sessions, counts, directory, filters, where):
    seed_many(engine, counts, directory)
    expected = brute_force(engine, where)
    small, rows20, total20 = statements_for_page(engine, sessions, filters, 20)
    large, rows100, total = statements_for_page(engine, sessions, filters, 100)
    assert (len(rows20), len(rows100)) == (min(expected, 20), min(expected, 100))
    assert total20 == total == expected
    assert small.count == large.count == 1, (small, large)
    assert all(row.tag_list and row.favorited == (row.id % 2 == 0) for row in rows100)
    assert all(row.author.username == f"u{row.author_id}" for row in rows100)
    assert all(row.author.following == (row.author_id in (1, 2, 3)) for row in rows100)


def test_every_filter_together_returns_every_match_in_one_statement(
        engine, sessions, counts, directory):
    seed_many(engine, counts, directory)
    for author in range(1, 8):
        filters = ArticleFilter(tag="even", author=f"u{author}", favorited="viewer")
        log, rows, total = statements_for_page(engine, sessions, filters, 100)
        assert log.count == 1
        expected = brute_force(engine, f"a.author_id = {author} AND a.id % 2 = 0")
        assert total == len(rows) == expected > 0


@pytest.mark.parametrize("action", ["favorite", "unfavorite"])
def test_a_favorite_or_unfavorite_is_one_statement_that_answers_with_the_article(
        engine, sessions, counts, directory, action):
    seed_many(engine, counts, directory)
    slug = "a-3"   # by u4, whom the viewer does not follow; not yet a favorite
    with sessions.session() as session:
        repository = ArticleRepository(session)
        if action == "unfavorite":
            repository.favorite(slug, VIEWER)
        with counting_statements(engine) as log:
            row = getattr(repository, action)(slug, VIEWER)
    assert log.count == 1, log
    assert (row.slug, row.favorited, row.favorites_count) == (slug, action == "favorite",
                                                              int(action == "favorite"))
    assert (row.author.username, row.author.following) == ("u4", False)
    assert counts.stored() == counts.brute_force()

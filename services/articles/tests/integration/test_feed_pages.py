"""The feed looks only into the followees that can be on the page, and misses nothing.

Its page comes from the followees whose newest article (`latest_at`, copied from their
count row onto the reader's follows rows) is among the page's depth newest
(queries._feed_page_and_total). These tests compare every page with the same page
sorted by brute force over all the articles of all the followees, with ties in
`created_at`, followees without articles, and authors whose newest article was deleted.
"""
import pytest
import sqlalchemy

from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import ArticleRef, ArticleRepository

READER = 1000
AUTHORS = range(1, 41)          # 40 followees; the reader follows all but the last 5


def seed(engine, counts, directory):
    directory.add("reader", user_id=READER)
    for author in AUTHORS:
        directory.add(f"a{author}", user_id=author)
        if author <= 35:
            directory.follow(READER, author)
    with engine.begin() as connection:
        # Author n writes n % 7 articles (so some write none), at times that collide on
        # purpose: article k of author n at minute (n * 13 + k * 29) % 120.
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.articles (slug, title, description, body, author_id,"
            " created_at, updated_at)"
            " SELECT 'a' || n || '-' || k, 't', 'd', 'b', n,"
            "   timestamptz '2026-01-01' + ((n * 13 + k * 29) % 120) * interval '1 minute',"
            "   timestamptz '2026-01-01'"
            " FROM generate_series(1, 40) n, generate_series(1, 6) k WHERE k <= n % 7"))
    counts.rebuild()


def brute_force_page(engine, limit, offset):
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sqlalchemy.text(
            "SELECT a.id, a.created_at FROM articles.articles a"
            " JOIN articles.follows f ON f.followee_id = a.author_id"
            " WHERE f.follower_id = :reader"
            " ORDER BY a.created_at DESC, a.id DESC LIMIT :limit OFFSET :offset"),
            {"reader": READER, "limit": limit, "offset": offset})]


def feed_page(sessions, limit, offset):
    with sessions.session() as session:
        rows, total = ArticleRepository(session).page(
            ArticleFilter(feed_of=READER), READER, limit, offset)
    return [(row.id, row.created_at) for row in rows], total


@pytest.mark.parametrize("limit, offset", [(1, 0), (3, 0), (5, 2), (10, 7), (20, 0),
                                           (20, 40), (100, 0), (7, 95), (20, 200)])
def test_every_page_is_the_brute_force_page(engine, sessions, counts, directory, limit, offset):
    seed(engine, counts, directory)
    expected_total = len(brute_force_page(engine, 10_000, 0))

    page, total = feed_page(sessions, limit, offset)

    assert page == brute_force_page(engine, limit, offset)
    assert total == expected_total


def test_a_deleted_newest_article_moves_its_author_back_in_time(
        engine, sessions, counts, directory):
    seed(engine, counts, directory)
    with engine.connect() as connection:
        newest = connection.execute(sqlalchemy.text(
            "SELECT a.id, a.slug, a.author_id, a.created_at FROM articles.articles a"
            " WHERE a.author_id <= 35 ORDER BY a.created_at DESC, a.id DESC LIMIT 1")).one()
    with sessions.session() as session:
        ArticleRepository(session).delete(ArticleRef(
            id=newest.id, slug=newest.slug, title="t", author_id=newest.author_id,
            created_at=newest.created_at, tag_list=[]))

    latest = counts.latest()
    assert latest["stored"] == latest["found"]
    assert counts.stale_follow_copies() == []
    for limit, offset in ((1, 0), (5, 0), (20, 3)):
        assert feed_page(sessions, limit, offset)[0] == brute_force_page(engine, limit, offset)


def test_the_page_reads_the_articles_of_only_the_followees_that_can_be_on_it(
        engine, sessions, counts, directory):
    """With 35 followees and a page of 3, the per-followee index scan runs for about 3
    followees (plus ties), not 35."""
    seed(engine, counts, directory)
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sqlalchemy.event.listen(engine, "before_cursor_execute", record)
    try:
        with sessions.session() as session:
            ArticleRepository(session).page(ArticleFilter(feed_of=READER), READER, 3, 0)
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", record)
    assert len(sent) == 1
    statement, parameters = sent[0]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters).scalar()[0]["Plan"]
    loops = [node["Actual Loops"] for node in walk(plan)
             if node.get("Index Name") == "ix_articles_author_id_created_at_id"]
    assert loops and max(loops) <= 5, loops


def walk(node):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)

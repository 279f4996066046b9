"""favoritesCount and the favoriters' counts stay exact when many users favorite the
same article at once."""
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy

from conduit_articles.repository import ArticleRepository

USERS = 20


def run_concurrently(sessions, article_id, action, user_ids):
    with sessions.session() as session:
        slug = session.execute(sqlalchemy.text(
            "SELECT slug FROM articles.articles WHERE id = :id"), {"id": article_id}).scalar_one()
    barrier = threading.Barrier(len(user_ids))

    def act(user_id):
        barrier.wait()
        with sessions.session() as session:
            getattr(ArticleRepository(session), action)(slug, user_id)

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        list(pool.map(act, user_ids))


def stored_counts(engine, article_id):
    with engine.connect() as connection:
        counter = connection.execute(sqlalchemy.text(
            "SELECT favorites_count FROM articles.articles WHERE id = :id"),
            {"id": article_id}).scalar_one()
        rows = connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM articles.favorites WHERE article_id = :id"),
            {"id": article_id}).scalar_one()
    return counter, rows


def test_concurrent_favorites_from_many_users_are_all_counted(
        engine, sessions, seed_article, counts):
    article_id = seed_article()
    run_concurrently(sessions, article_id, "favorite", list(range(1, USERS + 1)))
    assert stored_counts(engine, article_id) == (USERS, USERS)
    assert counts.stored() == counts.brute_force()


def test_concurrent_repeats_by_one_user_count_once(engine, sessions, seed_article, counts):
    article_id = seed_article()
    run_concurrently(sessions, article_id, "favorite", [7] * USERS)
    assert stored_counts(engine, article_id) == (1, 1)
    assert counts.stored()[("favoriter", 7)] == 1


def test_concurrent_unfavorites_bring_the_count_back_to_exactly_zero(
        engine, sessions, seed_article, counts):
    article_id = seed_article()
    users = list(range(1, USERS + 1))
    run_concurrently(sessions, article_id, "favorite", users)
    run_concurrently(sessions, article_id, "unfavorite", users + users)
    assert stored_counts(engine, article_id) == (0, 0)
    assert counts.stored() == counts.brute_force()


def test_one_user_favoriting_many_articles_at_once_is_counted_exactly(
        sessions, seed_article, counts):
    # Every write moves the same ('favoriter', 7) row: no lost update.
    article_ids = [seed_article() for _ in range(USERS)]
    with ThreadPoolExecutor(max_workers=USERS) as pool:
        list(pool.map(lambda article_id: run_concurrently(
            sessions, article_id, "favorite", [7]), article_ids))
    assert counts.stored()[("favoriter", 7)] == USERS
    assert counts.stored() == counts.brute_force()

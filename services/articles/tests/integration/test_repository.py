"""The repository on the real Postgres: filters, order, tags, favorites, slugs, cascade,
the maintained counts, and the users and follows read models."""
import threading
import time

import pytest
import sqlalchemy

from conduit_articles import queries
from conduit_articles.models import Article
from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import (ArticleRepository, ArticleVanished, CommentRepository,
                                         SlugTaken)


def page(sessions, filters=ArticleFilter(), viewer_id=None, limit=20, offset=0):
    with sessions.session() as session:
        return ArticleRepository(session).page(filters, viewer_id, limit, offset)


def ref_of(session, article_id):
    slug = session.execute(sqlalchemy.select(Article.slug).where(Article.id == article_id)
                           ).scalar_one()
    return ArticleRepository(session).find_ref(slug)


def test_page_is_newest_first_and_counts_everything_that_matches(sessions, seed_article):
    ids = [seed_article() for _ in range(5)]
    rows, total = page(sessions, limit=2, offset=1)
    assert [row.id for row in rows] == [ids[3], ids[2]]
    assert total == 5


def test_page_beyond_the_end_is_empty_but_still_counts(sessions, seed_article):
    seed_article()
    rows, total = page(sessions, offset=10)
    assert rows == [] and total == 1


def test_page_rows_carry_sorted_tags_their_author_and_no_body(
        sessions, seed_article, directory):
    jake = directory.add("jake", bio="bio", image="img")
    seed_article(author_id=jake, tags=["training", "dragons"])
    [row], _ = page(sessions)
    assert row.tag_list == ["dragons", "training"]
    assert row.body is None
    assert (row.author.username, row.author.bio, row.author.image, row.author.following) == (
        "jake", "bio", "img", False)


def test_tag_filter_keeps_only_tagged_articles(sessions, seed_article):
    tagged = seed_article(tags=["dragons"])
    seed_article(tags=["cats"])
    rows, total = page(sessions, ArticleFilter(tag="dragons"))
    assert [row.id for row in rows] == [tagged] and total == 1


def test_author_filter_takes_a_username_in_any_case(sessions, seed_article, directory):
    jake, ann = directory.add("Jake"), directory.add("ann")
    first, second = seed_article(author_id=jake), seed_article(author_id=jake)
    seed_article(author_id=ann)
    rows, total = page(sessions, ArticleFilter(author="jAKE"))
    assert [row.id for row in rows] == [second, first] and total == 2
    rows, total = page(sessions, ArticleFilter(author="nobody"))
    assert (rows, total) == ([], 0)


def test_favorited_filter_and_viewer_flag(sessions, seed_article, directory):
    ann, bob = directory.add("ann"), directory.add("bob")
    liked, other = seed_article(), seed_article()
    with sessions.session() as session:
        ArticleRepository(session).favorite(ref_of(session, liked).slug, user_id=ann)
    rows, total = page(sessions, ArticleFilter(favorited="ann"), viewer_id=ann)
    assert [(row.id, row.favorited, row.favorites_count) for row in rows] == [(liked, True, 1)]
    assert total == 1
    rows, _ = page(sessions, viewer_id=bob)
    assert {row.id: row.favorited for row in rows} == {liked: False, other: False}


def test_feed_has_the_followees_articles_and_following_is_per_viewer(
        sessions, seed_article, directory):
    jake, ann, bob = directory.add("jake"), directory.add("ann"), directory.add("bob")
    jakes = [seed_article(author_id=jake) for _ in range(3)]
    seed_article(author_id=ann)
    directory.follow(bob, jake)
    rows, total = page(sessions, ArticleFilter(feed_of=bob), viewer_id=bob, limit=2)
    assert [row.id for row in rows] == jakes[:0:-1] and total == 3
    assert all(row.author.following for row in rows)
    rows, total = page(sessions, ArticleFilter(feed_of=ann), viewer_id=ann)
    assert (rows, total) == ([], 0)
    directory.follow(bob, jake, present=False)
    assert page(sessions, ArticleFilter(feed_of=bob), viewer_id=bob) == ([], 0)


def test_favorite_twice_counts_once_and_unfavorite_twice_never_goes_negative(
        sessions, seed_article):
    article_id = seed_article()
    with sessions.session() as session:
        repository = ArticleRepository(session)
        slug = ref_of(session, article_id).slug
        answers = [repository.favorite(slug, 5), repository.favorite(slug, 5)]
        assert [(row.favorites_count, row.favorited) for row in answers] == [(1, True)] * 2
        assert repository.get(article_id, 5).favorites_count == 1
        answers = [repository.unfavorite(slug, 5), repository.unfavorite(slug, 5)]
        assert [(row.favorites_count, row.favorited) for row in answers] == [(0, False)] * 2
        row = repository.get(article_id, 5)
    assert (row.favorites_count, row.favorited) == (0, False)


def test_second_article_with_the_same_slug_is_refused_and_the_session_survives(
        sessions, seed_article, counts):
    seed_article(slug="same")
    with sessions.session() as session:
        repository = ArticleRepository(session)
        with pytest.raises(SlugTaken):
            repository.insert(slug="same", author_id=1, title="t", description="d", body="b")
        article_id, created_at = repository.insert(slug="same-x1", author_id=1, title="t",
                                                   description="d", body="b")
    with sessions.session() as session:
        found = ArticleRepository(session).find("same-x1", None)
    assert (found.id, found.created_at) == (article_id, created_at)
    assert counts.stored() == counts.brute_force()
    assert counts.stored()[("all", 0)] == 2


def test_replacing_tags_keeps_tag_names_shared_between_articles(sessions, seed_article, counts):
    first = seed_article(tags=["a", "b"])
    seed_article(tags=["b"])
    with sessions.session() as session:
        ArticleRepository(session).set_tags(ref_of(session, first), ["c"])
    with sessions.session() as session:
        repository = ArticleRepository(session)
        assert repository.get(first, None).tag_list == ["c"]
        assert repository.tags() == ["b", "c"]
    assert counts.stored() == counts.brute_force()


def test_setting_the_same_tags_again_changes_nothing(sessions, seed_article, counts):
    article_id = seed_article(tags=["a", "b"])
    before = counts.stored()
    with sessions.session() as session:
        ArticleRepository(session).set_tags(ref_of(session, article_id), ["b", "a"])
    with sessions.session() as session:
        assert ArticleRepository(session).get(article_id, None).tag_list == ["a", "b"]
    assert counts.stored() == before == counts.brute_force()


def test_tags_in_use_come_most_used_first(sessions, seed_article):
    seed_article(tags=["rare", "common"])
    seed_article(tags=["common"])
    with sessions.session() as session:
        assert ArticleRepository(session).tags() == ["common", "rare"]


def test_tags_tied_at_the_limit_are_cut_by_name(sessions, seed_article, monkeypatch):
    """The most used counts are taken first with their ties (queries.tags_query): the
    last place goes to the first name among the tied, whichever row the index gives."""
    monkeypatch.setattr(queries, "TAGS_LIMIT", 2)
    queries.tags_query.cache_clear()
    for tags in (["top", "tied-d"], ["top", "tied-c"], ["top", "tied-b"], ["tied-e"]):
        seed_article(tags=tags)
    try:
        with sessions.session() as session:
            assert ArticleRepository(session).tags() == ["top", "tied-b"]
    finally:
        queries.tags_query.cache_clear()


def test_deleting_an_article_removes_its_comments_favorites_tag_links_and_counts(
        sessions, seed_article, engine, counts):
    article_id = seed_article(author_id=2, tags=["gone", "kept"])
    seed_article(author_id=2, tags=["kept"])
    with sessions.session() as session:
        ref = ref_of(session, article_id)
        ArticleRepository(session).favorite(ref.slug, 3)
        ArticleRepository(session).favorite(ref.slug, 4)
        CommentRepository(session).add(article_id, 3, "nice")
    with sessions.session() as session:
        ArticleRepository(session).delete(ref_of(session, article_id))
    with engine.connect() as connection:
        rows = [connection.execute(sqlalchemy.text(f"SELECT count(*) FROM articles.{t}"))
                .scalar_one() for t in ("comments", "favorites", "article_tags")]
    assert rows == [0, 0, 1]
    assert counts.stored() == counts.brute_force()
    with sessions.session() as session:
        assert ArticleRepository(session).tags() == ["kept"]


def test_comment_is_found_only_under_its_own_article(sessions, seed_article):
    first, second = seed_article(), seed_article()
    with sessions.session() as session:
        comment = CommentRepository(session).add(first, 3, "hello")
    with sessions.session() as session:
        comments = CommentRepository(session)
        assert comments.find(first, comment["id"]) == (comment["id"], 3)
        assert comments.find(second, comment["id"]) is None


def test_comments_of_an_article_carry_their_authors_and_an_unknown_article_is_none(
        sessions, seed_article, directory):
    jake, ann = directory.add("jake"), directory.add("ann", bio="hi")
    article_id = seed_article(author_id=jake, slug="commented")
    seed_article(slug="quiet")
    with sessions.session() as session:
        CommentRepository(session).add(article_id, ann, "first")
        CommentRepository(session).add(article_id, jake, "second")
    directory.follow(jake, ann)
    with sessions.session() as session:
        comments = CommentRepository(session)
        rows = comments.of_article("commented", viewer_id=jake)
        assert [(row.body, row.author.username, row.author.following) for row in rows] == [
            ("second", "jake", False), ("first", "ann", True)]
        assert rows[1].author.bio == "hi"
        assert comments.of_article("quiet", None) == []
        assert comments.of_article("nope", None) is None


def test_a_comment_for_an_article_deleted_meanwhile_says_it_vanished(sessions, seed_article):
    article_id = seed_article()
    with sessions.session() as session:
        ArticleRepository(session).delete(ref_of(session, article_id))
    with pytest.raises(ArticleVanished):
        with sessions.session() as session:
            CommentRepository(session).add(article_id, 5, "too late")


def test_favorites_of_a_deleted_article_find_no_article(sessions, seed_article, counts):
    article_id = seed_article()
    with sessions.session() as session:
        slug = ref_of(session, article_id).slug
        ArticleRepository(session).delete(ref_of(session, article_id))
    with sessions.session() as session:
        repository = ArticleRepository(session)
        assert (repository.favorite(slug, 5), repository.unfavorite(slug, 5)) == (None, None)
    assert counts.stored() == counts.brute_force()


def test_favoriting_an_article_while_its_deletion_commits_says_it_vanished(
        engine, sessions, seed_article):
    """The favorite's statement saw the article, its deletion commits before the
    favorite row's foreign key is checked: a clear error (404 above), no orphan row."""
    article_id = seed_article()
    with sessions.session() as session:
        slug = ref_of(session, article_id).slug
    deleting = engine.connect().execution_options(isolation_level="READ COMMITTED")
    outcome = {}
    try:
        deleting.begin()
        deleting.execute(sqlalchemy.text("DELETE FROM articles.articles WHERE id = :id"),
                         {"id": article_id})

        def favorite():
            try:
                with sessions.session() as session:
                    outcome["row"] = ArticleRepository(session).favorite(slug, 5)
            except ArticleVanished as ex:
                outcome["vanished"] = ex

        writer = threading.Thread(target=favorite)
        writer.start()
        wait_until_blocked_on_a_lock(engine)
        deleting.commit()
        writer.join(timeout=10)
    finally:
        deleting.close()
    assert "vanished" in outcome, outcome
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM articles.favorites")).scalar_one() == 0
        assert connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM articles.article_counts WHERE kind = 'favoriter'")
        ).scalar_one() == 0


def wait_until_blocked_on_a_lock(engine, timeout=10.0):
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(sqlalchemy.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar_one():
                return
            time.sleep(0.01)
    raise AssertionError("the favorite never waited for the deletion's lock")


def test_a_renamed_user_is_found_by_the_new_name_and_not_the_old(
        sessions, seed_article, directory):
    jake = directory.add("jake")
    article_id = seed_article(author_id=jake)
    directory.add("jacob", user_id=jake, version=2)
    rows, total = page(sessions, ArticleFilter(author="jacob"))
    assert [row.id for row in rows] == [article_id] and total == 1
    assert rows[0].author.username == "jacob"
    assert page(sessions, ArticleFilter(author="jake")) == ([], 0)


def test_an_older_version_of_a_user_does_not_overwrite_a_newer_one(sessions, directory):
    jake = directory.add("jacob", bio="new", user_id=7, version=5)
    directory.add("jake", bio="old", user_id=7, version=4)
    with sessions.session() as session:
        author = ArticleRepository(session).author(jake)
    assert (author.username, author.bio) == ("jacob", "new")
    with sessions.session() as session:
        assert ArticleRepository(session).author(8) is None

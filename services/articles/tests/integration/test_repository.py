"""The repository on the real Postgres: filters, order, tags, favorites, slugs, cascade."""
import pytest
import sqlalchemy

from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import (ArticleRepository, ArticleVanished, CommentRepository,
                                         SlugTaken)


def page(sessions, filters=ArticleFilter(), viewer_id=None, limit=20, offset=0):
    with sessions.session() as session:
        return ArticleRepository(session).page(filters, viewer_id, limit, offset)


def test_page_is_newest_first_and_counts_everything_that_matches(sessions, seed_article):
    ids = [seed_article() for _ in range(5)]
    rows, total = page(sessions, limit=2, offset=1)
    assert [row.id for row in rows] == [ids[3], ids[2]]
    assert total == 5


def test_page_beyond_the_end_is_empty_but_still_counts(sessions, seed_article):
    seed_article()
    rows, total = page(sessions, offset=10)
    assert rows == [] and total == 1


def test_page_rows_carry_sorted_tags_and_no_body(sessions, seed_article):
    seed_article(tags=["training", "dragons"])
    [row], _ = page(sessions)
    assert row.tag_list == ["dragons", "training"]
    assert row.body is None


def test_tag_filter_keeps_only_tagged_articles(sessions, seed_article):
    tagged = seed_article(tags=["dragons"])
    seed_article(tags=["cats"])
    rows, total = page(sessions, ArticleFilter(tag="dragons"))
    assert [row.id for row in rows] == [tagged] and total == 1


def test_author_filter_accepts_several_authors(sessions, seed_article):
    first, second = seed_article(author_id=1), seed_article(author_id=2)
    seed_article(author_id=3)
    rows, total = page(sessions, ArticleFilter(author_ids=(1, 2)))
    assert {row.id for row in rows} == {first, second} and total == 2


def test_favorited_filter_and_viewer_flag(sessions, seed_article):
    liked, other = seed_article(), seed_article()
    with sessions.session() as session:
        ArticleRepository(session).add_favorite(liked, user_id=9)
    rows, total = page(sessions, ArticleFilter(favorited_by=9), viewer_id=9)
    assert [(row.id, row.favorited, row.favorites_count) for row in rows] == [(liked, True, 1)]
    rows, _ = page(sessions, viewer_id=8)
    assert {row.id: row.favorited for row in rows} == {liked: False, other: False}


def test_favorite_twice_counts_once_and_unfavorite_twice_never_goes_negative(
        sessions, seed_article):
    article_id = seed_article()
    with sessions.session() as session:
        repository = ArticleRepository(session)
        repository.add_favorite(article_id, 5)
        repository.add_favorite(article_id, 5)
        assert repository.get(article_id, 5).favorites_count == 1
        repository.remove_favorite(article_id, 5)
        repository.remove_favorite(article_id, 5)
        row = repository.get(article_id, 5)
    assert (row.favorites_count, row.favorited) == (0, False)


def test_second_article_with_the_same_slug_is_refused_and_the_session_survives(
        sessions, seed_article):
    seed_article(slug="same")
    with sessions.session() as session:
        repository = ArticleRepository(session)
        with pytest.raises(SlugTaken):
            repository.insert(slug="same", author_id=1, title="t", description="d", body="b")
        article_id = repository.insert(slug="same-x1", author_id=1, title="t",
                                       description="d", body="b")
    with sessions.session() as session:
        assert ArticleRepository(session).find("same-x1", None).id == article_id


def test_replacing_tags_keeps_tag_names_shared_between_articles(sessions, seed_article):
    first = seed_article(tags=["a", "b"])
    seed_article(tags=["b"])
    with sessions.session() as session:
        ArticleRepository(session).set_tags(first, ["c"], replace=True)
    with sessions.session() as session:
        repository = ArticleRepository(session)
        assert repository.get(first, None).tag_list == ["c"]
        assert repository.tags() == ["b", "c"]


def test_tags_in_use_come_most_used_first(sessions, seed_article):
    seed_article(tags=["rare", "common"])
    seed_article(tags=["common"])
    with sessions.session() as session:
        assert ArticleRepository(session).tags() == ["common", "rare"]


def test_deleting_an_article_removes_its_comments_favorites_and_tag_links(
        sessions, seed_article, engine):
    article_id = seed_article(tags=["gone"])
    with sessions.session() as session:
        ArticleRepository(session).add_favorite(article_id, 3)
        CommentRepository(session).add(article_id, 3, "nice")
    with sessions.session() as session:
        ArticleRepository(session).delete(article_id)
    with engine.connect() as connection:
        counts = [connection.execute(sqlalchemy.text(f"SELECT count(*) FROM articles.{t}"))
                  .scalar_one() for t in ("comments", "favorites", "article_tags")]
    assert counts == [0, 0, 0]


def test_comment_is_found_only_under_its_own_article(sessions, seed_article):
    first, second = seed_article(), seed_article()
    with sessions.session() as session:
        comment = CommentRepository(session).add(first, 3, "hello")
    with sessions.session() as session:
        comments = CommentRepository(session)
        assert comments.find(first, comment.id).body == "hello"
        assert comments.find(second, comment.id) is None


@pytest.mark.parametrize("write", ["favorite", "comment"])
def test_writing_for_an_article_deleted_meanwhile_says_it_vanished(sessions, seed_article, write):
    article_id = seed_article()
    with sessions.session() as session:
        ArticleRepository(session).delete(article_id)
    with pytest.raises(ArticleVanished):
        with sessions.session() as session:
            if write == "favorite":
                ArticleRepository(session).add_favorite(article_id, 5)
            else:
                CommentRepository(session).add(article_id, 5, "too late")

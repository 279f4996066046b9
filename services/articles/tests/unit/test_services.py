"""The service rules with a fake repository: no database, no network (and no peers:
every read is answered from the service's own schema)."""
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from conduit_common.errors import Forbidden, NotFound, Unprocessable

from conduit_articles.repository import (ArticleRef, ArticleRow, ArticleVanished, Author,
                                         CommentRow, SlugTaken)
from conduit_articles.services import ArticleService, CommentService

NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


def ref(slug="s", title="t", author_id=1, tag_list=()):
    return ArticleRef(id=1, slug=slug, title=title, author_id=author_id, created_at=NOW,
                      tag_list=list(tag_list))


class FakeArticles:
    """Just enough of ArticleRepository to drive the rules."""

    def __init__(self, taken=(), refs=()):
        self.taken = set(taken)
        self.refs = {ref.slug: ref for ref in refs}
        self.writes: list[tuple] = []
        self.pages: list = []
        self.locked: list[str] = []

    def find_ref(self, slug, for_update=False):
        if for_update:
            self.locked.append(slug)
        return self.refs.get(slug)

    def find(self, slug, viewer_id):
        return self.get(self.refs[slug].id, viewer_id) if slug in self.refs else None

    def insert(self, *, slug, author_id, **fields):
        if slug in self.taken:
            raise SlugTaken(slug)
        self.writes.append(("insert", slug))
        return 1, NOW

    def update(self, article_id, changes):
        if changes.get("slug") in self.taken:
            raise SlugTaken(changes["slug"])
        self.writes.append(("update", changes))

    def set_tags(self, article, names):
        self.writes.append(("tags", article, names))

    def delete(self, article):
        self.writes.append(("delete", article))

    def commit(self):
        self.writes.append(("commit",))

    def get(self, article_id, viewer_id):
        return ArticleRow(id=article_id, slug="s", title="t", description="d", author_id=1,
                          favorites_count=0, created_at=NOW, updated_at=NOW, tag_list=[],
                          favorited=False, author=Author("jake", None, None, False), body="b")

    def favorite(self, slug, user_id):
        return self._favorited(slug, user_id, True)

    def unfavorite(self, slug, user_id):
        return self._favorited(slug, user_id, False)

    def _favorited(self, slug, user_id, favorited):
        if slug not in self.refs:
            return None
        self.writes.append(("favorite" if favorited else "unfavorite", slug, user_id))
        return replace(self.get(self.refs[slug].id, user_id), favorited=favorited)

    def page(self, filters, viewer_id, limit, offset):
        self.pages.append((filters, viewer_id, limit, offset))
        return [], 0

    def author(self, user_id):
        return Author("ann", "hi", None, False) if user_id == 2 else None


def service(articles):
    suffixes = iter(["aaaaaa", "bbbbbb", "cccccc", "dddddd", "eeeeee"])
    return ArticleService(articles, slug_suffix=lambda: next(suffixes))


NEW = {"title": "Hello World", "description": "d", "body": "b", "tagList": ["b", "a", "a"]}


def test_create_tries_the_next_suffixed_slug_when_one_is_taken():
    articles = FakeArticles(taken={"hello-world", "hello-world-aaaaaa"})
    service(articles).create_article(1, NEW)
    assert ("insert", "hello-world-bbbbbb") in articles.writes
    [tags] = [write for write in articles.writes if write[0] == "tags"]
    assert tags[2] == ["a", "b"]
    # The new article has no tags yet: every name is added (and counted) once.
    assert (tags[1].id, tags[1].author_id, tags[1].created_at, tags[1].tag_list) == (
        1, 1, NOW, [])
    assert articles.writes[-1] == ("commit",)


def test_create_gives_up_with_422_when_every_slug_is_taken():
    taken = {"hello-world"} | {f"hello-world-{c * 6}" for c in "abcde"}
    articles = FakeArticles(taken=taken)
    with pytest.raises(Unprocessable):
        service(articles).create_article(1, NEW)
    assert articles.writes == []


def test_update_by_someone_else_is_forbidden_and_writes_nothing():
    articles = FakeArticles(refs=[ref()])
    with pytest.raises(Forbidden):
        service(articles).update_article("s", 2, {"body": "mine"})
    with pytest.raises(Forbidden):
        service(articles).delete_article("s", 2)
    assert articles.writes == []


def test_update_and_delete_lock_the_article_they_change():
    articles = FakeArticles(refs=[ref()])
    service(articles).update_article("s", 1, {"tagList": ["x"]})
    service(articles).delete_article("s", 1)
    assert articles.locked == ["s", "s"]
    assert ("delete", ref()) in articles.writes


def test_tag_change_passes_the_current_tags_to_diff_against():
    current = ref(tag_list=["old", "kept"])
    articles = FakeArticles(refs=[current])
    service(articles).update_article("s", 1, {"tagList": ["kept", "new", "new"]})
    assert ("tags", current, ["kept", "new"]) in articles.writes


def test_update_without_tag_list_leaves_the_tags_alone():
    articles = FakeArticles(refs=[ref()])
    service(articles).update_article("s", 1, {"body": "new body"})
    assert [write[0] for write in articles.writes] == ["update", "commit"]


def test_title_change_that_keeps_the_slug_does_not_touch_it():
    articles = FakeArticles(refs=[ref(slug="hello-world-x", title="Hello World")])
    service(articles).update_article("hello-world-x", 1, {"title": "Hello, world!"})
    assert ("update", {"title": "Hello, world!"}) in articles.writes


def test_favorite_answers_with_the_article_and_commits():
    articles = FakeArticles(refs=[ref()])
    answer = service(articles).favorite("s", 2)
    assert answer["article"]["favorited"] is True
    assert articles.writes == [("favorite", "s", 2), ("commit",)]


def test_unknown_article_is_not_found():
    articles = FakeArticles()
    for call in (lambda s: s.favorite("nope", 1), lambda s: s.unfavorite("nope", 1),
                 lambda s: s.get_article("nope", None), lambda s: s.delete_article("nope", 1)):
        with pytest.raises(NotFound):
            call(service(articles))
    assert articles.writes == []


def test_list_filters_are_passed_by_name_to_one_page_query():
    articles = FakeArticles()
    result = service(articles).list_articles(7, 20, 40, tag="t", author="Jake", favorited="ann")
    assert result == {"articles": [], "articlesCount": 0}
    [(filters, viewer, limit, offset)] = articles.pages
    assert (filters.tag, filters.author, filters.favorited, filters.feed_of) == (
        "t", "Jake", "ann", None)
    assert (viewer, limit, offset) == (7, 20, 40)


def test_feed_is_the_page_of_the_viewers_followees():
    articles = FakeArticles()
    service(articles).feed(7, 10, 0)
    [(filters, viewer, _, _)] = articles.pages
    assert (filters.feed_of, filters.tag, filters.author, filters.favorited, viewer) == (
        7, None, None, None, 7)


def test_favoriting_an_article_deleted_meanwhile_is_404_not_500():
    class Vanishing(FakeArticles):
        def favorite(self, slug, user_id):
            raise ArticleVanished("deleted by its author a moment ago")

    articles = Vanishing(refs=[ref()])
    with pytest.raises(NotFound):
        service(articles).favorite("s", 2)
    assert ("commit",) not in articles.writes


class FakeComments:
    def __init__(self, rows=None):
        self.rows = rows
        self.added = []

    def of_article(self, slug, viewer_id):
        return self.rows

    def add(self, article_id, author_id, body):
        self.added.append((article_id, author_id, body))
        return {"id": 5, "body": body, "created_at": NOW, "updated_at": NOW}


def test_comments_of_an_unknown_article_are_not_found():
    with pytest.raises(NotFound):
        CommentService(FakeArticles(), FakeComments(rows=None)).list_comments("nope", None)


def test_comments_are_presented_with_their_authors():
    row = CommentRow(id=3, author_id=2, body="hi", created_at=NOW, updated_at=NOW,
                     author=Author("ann", None, None, True))
    result = CommentService(FakeArticles(), FakeComments(rows=[row])).list_comments("s", 1)
    assert result == {"comments": [{"id": 3, "createdAt": NOW, "updatedAt": NOW, "body": "hi",
                                    "author": {"username": "ann", "bio": None, "image": None,
                                               "following": True}}]}


def test_a_new_comment_shows_its_author_from_the_read_model():
    articles, comments = FakeArticles(refs=[ref()]), FakeComments()
    result = CommentService(articles, comments).add_comment("s", 2, "hello")
    assert comments.added == [(1, 2, "hello")]
    assert result["comment"]["author"] == {"username": "ann", "bio": "hi", "image": None,
                                           "following": False}
    assert ("commit",) in articles.writes


def test_an_author_the_read_model_lacks_yet_is_shown_as_unknown():
    articles = FakeArticles(refs=[ref()])
    result = CommentService(articles, FakeComments()).add_comment("s", 99, "hello")
    assert result["comment"]["author"]["username"] == "unknown"

"""The service rules with fake repositories and peers: no database, no network."""
from datetime import datetime, timezone

import pytest

from conduit_common.errors import DependencyUnavailable, Forbidden, NotFound, Unprocessable

from conduit_articles.repository import ArticleRef, ArticleRow, ArticleVanished, SlugTaken
from conduit_articles.services import ArticleService

NOW = datetime(2026, 11, 26, tzinfo=timezone.utc)


class FakeArticles:
    """Just enough of ArticleRepository to drive the rules."""

    def __init__(self, taken=(), refs=()):
        self.taken = set(taken)
        self.refs = {ref.slug: ref for ref in refs}
        self.writes: list[tuple] = []
        self.pages: list = []

    def find_ref(self, slug):
        return self.refs.get(slug)

    def insert(self, *, slug, author_id, **fields):
        if slug in self.taken:
            raise SlugTaken(slug)
        self.writes.append(("insert", slug))
        return 1

    def update(self, article_id, changes):
        if changes.get("slug") in self.taken:
            raise SlugTaken(changes["slug"])
        self.writes.append(("update", changes))

    def set_tags(self, article_id, names, replace=False):
        self.writes.append(("tags", names))

    def delete(self, article_id):
        self.writes.append(("delete", article_id))

    def commit(self):
        self.writes.append(("commit",))

    def get(self, article_id, viewer_id):
        return ArticleRow(id=article_id, slug="s", title="t", description="d", author_id=1,
                          favorites_count=0, created_at=NOW, updated_at=NOW, tag_list=[],
                          favorited=False, body="b")

    def page(self, filters, viewer_id, limit, offset):
        self.pages.append(filters)
        return [], 0


class FakeAuth:
    def __init__(self, users):
        self.users = users
        self.calls = []

    def user_ids_by_username(self, names):
        self.calls.append(list(names))
        return {name.lower(): self.users[name.lower()] for name in names
                if name.lower() in self.users}


class FakeProfiles:
    def __init__(self, down=False):
        self.down = down

    def profiles(self, ids, viewer_id):
        if self.down:
            raise DependencyUnavailable("profiles service is unavailable, try again later")
        return {i: {"username": f"u{i}", "bio": None, "image": None, "following": False}
                for i in ids}

    def followee_ids(self, follower_id):
        return []


def service(articles, auth=None, profiles=None):
    suffixes = iter(["aaaaaa", "bbbbbb", "cccccc", "dddddd", "eeeeee"])
    return ArticleService(articles, auth or FakeAuth({}), profiles or FakeProfiles(),
                          slug_suffix=lambda: next(suffixes))


NEW = {"title": "Hello World", "description": "d", "body": "b", "tagList": ["b", "a", "a"]}


def test_create_tries_the_next_suffixed_slug_when_one_is_taken():
    articles = FakeArticles(taken={"hello-world", "hello-world-aaaaaa"})
    service(articles).create_article(1, NEW)
    assert ("insert", "hello-world-bbbbbb") in articles.writes
    assert ("tags", ["a", "b"]) in articles.writes


def test_create_gives_up_with_422_when_every_slug_is_taken():
    taken = {"hello-world"} | {f"hello-world-{c * 6}" for c in "abcde"}
    with pytest.raises(Unprocessable):
        service(FakeArticles(taken=taken)).create_article(1, NEW)


def test_create_writes_nothing_when_profiles_is_down():
    articles = FakeArticles()
    with pytest.raises(DependencyUnavailable):
        service(articles, profiles=FakeProfiles(down=True)).create_article(1, NEW)
    assert articles.writes == []


def test_update_by_someone_else_is_forbidden_and_writes_nothing():
    articles = FakeArticles(refs=[ArticleRef(id=1, slug="s", title="t", author_id=1)])
    with pytest.raises(Forbidden):
        service(articles).update_article("s", 2, {"body": "mine"})
    with pytest.raises(Forbidden):
        service(articles).delete_article("s", 2)
    assert articles.writes == []


def test_title_change_that_keeps_the_slug_does_not_touch_it():
    articles = FakeArticles(refs=[ArticleRef(id=1, slug="hello-world-x", title="Hello World",
                                             author_id=1)])
    service(articles).update_article("hello-world-x", 1, {"title": "Hello, world!"})
    assert ("update", {"title": "Hello, world!"}) in articles.writes


def test_unknown_article_is_not_found():
    with pytest.raises(NotFound):
        service(FakeArticles()).favorite("nope", 1)


def test_both_user_filters_resolve_with_one_call_to_auth():
    auth, articles = FakeAuth({"jake": 1, "ann": 2}), FakeArticles()
    service(articles, auth).list_articles(None, 20, 0, author="Jake", favorited="ann")
    assert auth.calls == [["Jake", "ann"]]
    assert (articles.pages[0].author_ids, articles.pages[0].favorited_by) == ((1,), 2)


def test_unknown_user_in_a_filter_answers_empty_without_querying():
    articles = FakeArticles()
    result = service(articles, FakeAuth({"jake": 1})).list_articles(
        None, 20, 0, author="jake", favorited="ghost")
    assert result == {"articles": [], "articlesCount": 0}
    assert articles.pages == []


def test_favoriting_an_article_deleted_meanwhile_is_404_not_500():
    class Vanishing(FakeArticles):
        def add_favorite(self, article_id, user_id):
            raise ArticleVanished("deleted by its author a moment ago")

    articles = Vanishing(refs=[ArticleRef(id=1, slug="s", title="t", author_id=1)])
    with pytest.raises(NotFound):
        service(articles).favorite("s", 2)
    assert ("commit",) not in articles.writes

"""The rules of the articles context: plain values in, documents or domain errors out.

Downstream calls are batched (one per service and question, per request). A write
that cannot safely be repeated (create article, add comment) fetches the profile it
needs first, so a 503 from profiles leaves nothing behind; idempotent writes commit
before the profile call so no row lock is held across a network hop.
"""
from collections.abc import Callable

from conduit_common.errors import NotFound, Unprocessable

from conduit_articles import messages, presenters, rules
from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import (ArticleRef, ArticleRepository, ArticleVanished,
                                         CommentRepository, SlugTaken)

ARTICLE_FIELDS = ("title", "description", "body")


class ArticleService:
    def __init__(self, articles: ArticleRepository, auth, profiles,
                 slug_suffix: Callable[[], str] = rules.random_suffix):
        self._articles = articles
        self._auth = auth
        self._profiles = profiles
        self._slug_suffix = slug_suffix

    def list_articles(self, viewer_id: int | None, limit: int, offset: int, tag: str | None = None,
                      author: str | None = None, favorited: str | None = None) -> dict:
        filters = self._resolve_filters(tag, author, favorited)
        if filters is None:   # a named user who does not exist has no articles
            return presenters.article_page([], 0, {})
        return self._page(filters, viewer_id, limit, offset)

    def feed(self, viewer_id: int, limit: int, offset: int) -> dict:
        followees = self._profiles.followee_ids(viewer_id)
        if not followees:
            return presenters.article_page([], 0, {})
        rows, total = self._articles.page(ArticleFilter(author_ids=tuple(followees)), viewer_id,
                                          limit, offset)
        # Every author in the feed is followed by the viewer, so their profiles come
        # straight from auth: one call to each peer instead of two to profiles.
        authors = self._auth.followed_profiles({row.author_id for row in rows})
        return presenters.article_page(rows, total, authors)

    def get_article(self, slug: str, viewer_id: int | None) -> dict:
        row = self._articles.find(slug, viewer_id)
        if row is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return self._single(row, viewer_id)

    def create_article(self, author_id: int, fields: dict) -> dict:
        profiles = self._profiles.profiles([author_id], author_id)
        article_id = self._with_unique_slug(fields["title"], lambda slug: self._articles.insert(
            slug=slug, author_id=author_id, **{name: fields[name] for name in ARTICLE_FIELDS}))
        self._articles.set_tags(article_id, rules.normalize_tags(fields.get("tagList")))
        self._articles.commit()
        return {"article": presenters.article(self._articles.get(article_id, author_id), profiles)}

    def update_article(self, slug: str, user_id: int, fields: dict) -> dict:
        ref = self._own_article(slug, user_id)
        changes = {name: fields[name] for name in ARTICLE_FIELDS if name in fields}
        if "title" in changes and rules.slugify(changes["title"]) != rules.slugify(ref.title):
            self._with_unique_slug(changes["title"], lambda new_slug: self._articles.update(
                ref.id, {**changes, "slug": new_slug}))
        elif changes or "tagList" in fields:
            self._articles.update(ref.id, changes)
        if "tagList" in fields:
            self._articles.set_tags(ref.id, rules.normalize_tags(fields["tagList"]), replace=True)
        self._articles.commit()
        return self._single(self._articles.get(ref.id, user_id), user_id)

    def delete_article(self, slug: str, user_id: int) -> None:
        ref = self._own_article(slug, user_id)
        self._articles.delete(ref.id)
        self._articles.commit()

    def favorite(self, slug: str, user_id: int) -> dict:
        ref = self._require(slug)
        try:
            self._articles.add_favorite(ref.id, user_id)
        except ArticleVanished as ex:   # deleted between the lookup and the write
            raise NotFound(messages.ARTICLE_NOT_FOUND) from ex
        self._articles.commit()
        return self._single(self._articles.get(ref.id, user_id), user_id)

    def unfavorite(self, slug: str, user_id: int) -> dict:
        ref = self._require(slug)
        self._articles.remove_favorite(ref.id, user_id)
        self._articles.commit()
        return self._single(self._articles.get(ref.id, user_id), user_id)

    def tags(self) -> dict:
        return {"tags": self._articles.tags()}

    def _resolve_filters(self, tag, author, favorited) -> ArticleFilter | None:
        """Usernames to ids with one call to auth, even when both filters are given."""
        names = [name for name in (author, favorited) if name]
        ids = self._auth.user_ids_by_username(names) if names else {}
        if any(name.lower() not in ids for name in names):
            return None
        return ArticleFilter(
            tag=tag,
            author_ids=(ids[author.lower()],) if author else None,
            favorited_by=ids[favorited.lower()] if favorited else None,
        )

    def _page(self, filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int
              ) -> dict:
        rows, total = self._articles.page(filters, viewer_id, limit, offset)
        profiles = self._profiles.profiles({row.author_id for row in rows}, viewer_id)
        return presenters.article_page(rows, total, profiles)

    def _single(self, row, viewer_id: int | None) -> dict:
        profiles = self._profiles.profiles([row.author_id], viewer_id)
        return {"article": presenters.article(row, profiles)}

    def _with_unique_slug(self, title: str, write: Callable[[str], object]):
        for slug in rules.slug_candidates(title, self._slug_suffix):
            try:
                return write(slug)
            except SlugTaken:
                continue
        raise Unprocessable.on_field("title", messages.SLUG_UNAVAILABLE)

    def _require(self, slug: str) -> ArticleRef:
        ref = self._articles.find_ref(slug)
        if ref is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return ref

    def _own_article(self, slug: str, user_id: int) -> ArticleRef:
        ref = self._require(slug)
        rules.ensure_author(ref.author_id, user_id, messages.NOT_YOUR_ARTICLE)
        return ref


class CommentService:
    def __init__(self, articles: ArticleRepository, comments: CommentRepository, profiles):
        self._articles = articles
        self._comments = comments
        self._profiles = profiles

    def list_comments(self, slug: str, viewer_id: int | None) -> dict:
        rows = self._comments.of_article(self._article_id(slug))
        profiles = self._profiles.profiles({row.author_id for row in rows}, viewer_id)
        return {"comments": [presenters.comment(row, profiles) for row in rows]}

    def add_comment(self, slug: str, author_id: int, body: str) -> dict:
        article_id = self._article_id(slug)
        profiles = self._profiles.profiles([author_id], author_id)
        try:
            row = self._comments.add(article_id, author_id, body)
        except ArticleVanished as ex:   # deleted between the lookup and the write
            raise NotFound(messages.ARTICLE_NOT_FOUND) from ex
        self._articles.commit()
        return {"comment": presenters.comment(row, profiles)}

    def delete_comment(self, slug: str, comment_id: int, user_id: int) -> None:
        comment = self._comments.find(self._article_id(slug), comment_id)
        if comment is None:   # unknown, or a comment of another article
            raise NotFound(messages.COMMENT_NOT_FOUND)
        rules.ensure_author(comment.author_id, user_id, messages.NOT_YOUR_COMMENT)
        self._comments.delete(comment.id)
        self._articles.commit()

    def _article_id(self, slug: str) -> int:
        ref = self._articles.find_ref(slug)
        if ref is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return ref.id

"""The rules of the articles context: plain values in, documents or domain errors out.

Everything is answered from this service's own schema: authors and `following` come
from the read models the projector keeps, so no request calls another service.
"""
from collections.abc import Callable
from dataclasses import asdict

from conduit_common.errors import NotFound, Unprocessable

from conduit_articles import messages, presenters, rules
from conduit_articles.queries import ArticleFilter
from conduit_articles.repository import (ArticleRef, ArticleRepository, ArticleRow,
                                         ArticleVanished, CommentRepository, SlugTaken)

ARTICLE_FIELDS = ("title", "description", "body")


class ArticleService:
    def __init__(self, articles: ArticleRepository,
                 slug_suffix: Callable[[], str] = rules.random_suffix):
        self._articles = articles
        self._slug_suffix = slug_suffix

    def list_articles(self, viewer_id: int | None, limit: int, offset: int, tag: str | None = None,
                      author: str | None = None, favorited: str | None = None) -> dict:
        filters = ArticleFilter(tag=tag, author=author, favorited=favorited)
        return self._page(filters, viewer_id, limit, offset)

    def feed(self, viewer_id: int, limit: int, offset: int) -> dict:
        return self._page(ArticleFilter(feed_of=viewer_id), viewer_id, limit, offset)

    def get_article(self, slug: str, viewer_id: int | None) -> dict:
        row = self._articles.find(slug, viewer_id)
        if row is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return {"article": presenters.article(row)}

    def create_article(self, author_id: int, fields: dict) -> dict:
        article_id, created_at = self._with_unique_slug(
            fields["title"], lambda slug: self._articles.insert(
                slug=slug, author_id=author_id,
                **{name: fields[name] for name in ARTICLE_FIELDS}))
        ref = ArticleRef(article_id, "", fields["title"], author_id, created_at, [])
        self._articles.set_tags(ref, rules.normalize_tags(fields.get("tagList")))
        self._articles.commit()
        return self._single(article_id, author_id)

    def update_article(self, slug: str, user_id: int, fields: dict) -> dict:
        ref = self._own_article(slug, user_id)
        changes = {name: fields[name] for name in ARTICLE_FIELDS if name in fields}
        if "title" in changes and rules.slugify(changes["title"]) != rules.slugify(ref.title):
            self._with_unique_slug(changes["title"], lambda new_slug: self._articles.update(
                ref.id, {**changes, "slug": new_slug}))
        elif changes or "tagList" in fields:
            self._articles.update(ref.id, changes)
        if "tagList" in fields:
            self._articles.set_tags(ref, rules.normalize_tags(fields["tagList"]))
        self._articles.commit()
        return self._single(ref.id, user_id)

    def delete_article(self, slug: str, user_id: int) -> None:
        self._articles.delete(self._own_article(slug, user_id))
        self._articles.commit()

    def favorite(self, slug: str, user_id: int) -> dict:
        try:
            row = self._articles.favorite(slug, user_id)
        except ArticleVanished as ex:   # its deletion committed while the favorite waited
            raise NotFound(messages.ARTICLE_NOT_FOUND) from ex
        return self._favorite_answer(row)

    def unfavorite(self, slug: str, user_id: int) -> dict:
        return self._favorite_answer(self._articles.unfavorite(slug, user_id))

    def _favorite_answer(self, row: ArticleRow | None) -> dict:
        if row is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        self._articles.commit()
        return {"article": presenters.article(row)}

    def tags(self) -> dict:
        return {"tags": self._articles.tags()}

    def _page(self, filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int
              ) -> dict:
        rows, total = self._articles.page(filters, viewer_id, limit, offset)
        return presenters.article_page(rows, total)

    def _single(self, article_id: int, viewer_id: int | None) -> dict:
        return {"article": presenters.article(self._articles.get(article_id, viewer_id))}

    def _with_unique_slug(self, title: str, write: Callable[[str], object]):
        for slug in rules.slug_candidates(title, self._slug_suffix):
            try:
                return write(slug)
            except SlugTaken:
                continue
        raise Unprocessable.on_field("title", messages.SLUG_UNAVAILABLE)

    def _require(self, slug: str, for_update: bool = False) -> ArticleRef:
        ref = self._articles.find_ref(slug, for_update)
        if ref is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return ref

    def _own_article(self, slug: str, user_id: int) -> ArticleRef:
        ref = self._require(slug, for_update=True)
        rules.ensure_author(ref.author_id, user_id, messages.NOT_YOUR_ARTICLE)
        return ref


class CommentService:
    def __init__(self, articles: ArticleRepository, comments: CommentRepository):
        self._articles = articles
        self._comments = comments

    def list_comments(self, slug: str, viewer_id: int | None) -> dict:
        rows = self._comments.of_article(slug, viewer_id)
        if rows is None:
            raise NotFound(messages.ARTICLE_NOT_FOUND)
        return {"comments": [presenters.comment(asdict(row), row.author) for row in rows]}

    def add_comment(self, slug: str, author_id: int, body: str) -> dict:
        article_id = self._article_id(slug)
        try:
            values = self._comments.add(article_id, author_id, body)
        except ArticleVanished as ex:   # its deletion committed while the favorite waited
            raise NotFound(messages.ARTICLE_NOT_FOUND) from ex
        self._articles.commit()
        comment = {**values, "author_id": author_id}
        return {"comment": presenters.comment(comment, self._articles.author(author_id))}

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

"""Reads and writes of the articles schema; one statement per read, no per-row queries.

Writes keep the copies and counts of models.py in the same transaction: an
article's `tag_list`, the article's `created_at` on its tag links and favorites,
and the `article_counts` rows of every list it appears in.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conduit_articles import queries
from conduit_articles.models import Article, ArticleCount, ArticleTag, Comment, Tag
from conduit_articles.queries import ArticleFilter

SLUG_CONSTRAINT = "uq_articles_slug"
FOREIGN_KEY_VIOLATION = "23503"


class SlugTaken(Exception):
    """Another article already has this slug."""


class ArticleVanished(Exception):
    """The article was deleted while a favorite or comment for it was being written."""


def _referencing_article(write):
    """Run a write whose row points at an article; the article vanishing is not a 500."""
    try:
        return write()
    except IntegrityError as ex:
        if getattr(ex.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
            raise ArticleVanished(str(ex.orig)) from ex
        raise


@dataclass(frozen=True)
class Author:
    """A user as an article or comment shows them (from the users read model)."""

    username: str | None
    bio: str | None
    image: str | None
    following: bool

    @classmethod
    def of_row(cls, row) -> "Author":
        return cls(row.author_username, row.author_bio, row.author_image,
                   bool(row.author_following))


@dataclass(frozen=True)
class ArticleRow:
    id: int
    slug: str
    title: str
    description: str
    author_id: int
    favorites_count: int
    created_at: datetime
    updated_at: datetime
    tag_list: list[str]
    favorited: bool
    author: Author
    body: str | None = None


@dataclass(frozen=True)
class ArticleRef:
    """Just enough of an article to check who may change it."""

    id: int
    slug: str
    title: str
    author_id: int
    created_at: datetime
    tag_list: list[str]


@dataclass(frozen=True)
class CommentRow:
    id: int
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime
    author: Author


_AUTHOR_KEYS = ("author_username", "author_bio", "author_image", "author_following")
_NOT_ARTICLE_KEYS = (*_AUTHOR_KEYS, "total")   # a page's rows also carry the list's size


def _article(row) -> ArticleRow:
    values = {k: v for k, v in row._asdict().items() if k not in _NOT_ARTICLE_KEYS}
    return ArticleRow(**values, author=Author.of_row(row))


def _comment(row) -> CommentRow:
    return CommentRow(id=row.id, author_id=row.author_id, body=row.body,
                      created_at=row.created_at, updated_at=row.updated_at,
                      author=Author.of_row(row))


class ArticleRepository:
    def __init__(self, session: Session):
        self._session = session

    def commit(self) -> None:
        self._session.commit()

    # Reading

    def page(self, filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int
             ) -> tuple[list[ArticleRow], int]:
        """A page and the size of the whole list: one statement, or two past its end."""
        rows = self._session.execute(
            *queries.page_query(filters, viewer_id, limit, offset)).all()
        if rows:
            total = rows[0].total
        elif offset == 0:
            total = 0     # not even a first page: the list is empty
        else:
            total = self._session.execute(*queries.count_query(filters)).scalar_one()
        return [_article(row) for row in rows], int(total)

    def find(self, slug: str, viewer_id: int | None) -> ArticleRow | None:
        row = self._session.execute(*queries.single_query(viewer_id, slug=slug)).first()
        return _article(row) if row else None

    def get(self, article_id: int, viewer_id: int | None) -> ArticleRow:
        row = self._session.execute(
            *queries.single_query(viewer_id, article_id=article_id)).one()
        return _article(row)

    def find_ref(self, slug: str, for_update: bool = False) -> ArticleRef | None:
        statement = (select(Article.id, Article.slug, Article.title, Article.author_id,
                            Article.created_at, Article.tag_list).where(Article.slug == slug))
        if for_update:   # tag changes and deletion move counts: one writer at a time
            statement = statement.with_for_update()
        row = self._session.execute(statement).first()
        return ArticleRef(**row._asdict()) if row else None

    def tags(self) -> list[str]:
        return list(self._session.execute(queries.tags_query()).scalars())

    def author(self, user_id: int) -> Author | None:
        row = self._session.execute(queries.author_statement(), {"id": user_id}).first()
        return Author.of_row(row) if row else None

    # Writing

    def insert(self, *, slug: str, author_id: int, title: str, description: str, body: str
               ) -> tuple[int, datetime]:
        statement = (insert(Article).values(slug=slug, author_id=author_id, title=title,
                                            description=description, body=body)
                     .returning(Article.id, Article.created_at))
        article_id, created_at = self._with_unique_slug(
            lambda: self._session.execute(statement).one())
        # The author's newest article is this one, or one committed meanwhile with a
        # later time: the count upsert keeps the later of the two (adding_to_counts).
        self._count([("all", 0, 1), ("author", author_id, 1)], latest={author_id: created_at})
        return article_id, created_at

    def update(self, article_id: int, changes: dict) -> None:
        statement = (update(Article).where(Article.id == article_id)
                     .values(**changes, updated_at=func.now()))
        self._with_unique_slug(lambda: self._session.execute(statement))

    def _with_unique_slug(self, write):
        """Run a write in a savepoint; a clash on the slug's unique index is SlugTaken."""
        try:
            with self._session.begin_nested():
                return write()
        except IntegrityError as ex:
            if getattr(getattr(ex.orig, "diag", None), "constraint_name", None) == SLUG_CONSTRAINT:
                raise SlugTaken(str(ex.orig)) from ex
            raise

    def set_tags(self, article: ArticleRef, names: list[str]) -> None:
        """Make the article's tags exactly `names` (sorted), moving the tag counts."""
        old, new = set(article.tag_list), set(names)
        if old == new:
            return
        if new - old:
            self._session.execute(pg_insert(Tag).values([{"name": n} for n in sorted(new - old)])
                                  .on_conflict_do_nothing(index_elements=[Tag.name]))
        tag_ids = dict(self._session.execute(
            select(Tag.name, Tag.id).where(Tag.name.in_(sorted(old | new)))).all())
        if old - new:
            self._session.execute(delete(ArticleTag).where(
                ArticleTag.article_id == article.id,
                ArticleTag.tag_id.in_([tag_ids[n] for n in old - new])))
        if new - old:
            self._session.execute(insert(ArticleTag).values([
                {"article_id": article.id, "tag_id": tag_ids[n], "created_at": article.created_at}
                for n in sorted(new - old)]))
        self._session.execute(update(Article).where(Article.id == article.id)
                              .values(tag_list=sorted(new)))
        self._count([("tag", tag_ids[n], 1) for n in new - old]
                    + [("tag", tag_ids[n], -1) for n in old - new])

    def delete(self, article: ArticleRef) -> None:
        """Comments, favorites and tag links go with it (ON DELETE CASCADE); so do the
        counts of its author, its tags and everyone who favorited it."""
        gone = self._session.execute(text(
            "SELECT 'favoriter' AS kind, user_id AS key FROM articles.favorites"
            " WHERE article_id = :id"
            " UNION ALL SELECT 'tag', tag_id FROM articles.article_tags WHERE article_id = :id"),
            {"id": article.id}).all()
        self._session.execute(delete(Article).where(Article.id == article.id))
        # One upsert in key order, like every other writer: no deadlock with favorites.
        self._count([("all", 0, -1), ("author", article.author_id, -1)]
                    + [(kind, key, -1) for kind, key in gone])
        self._note_latest(article.author_id)

    def favorite(self, slug: str, user_id: int) -> ArticleRow | None:
        """Idempotent; the counters move only when a row was really inserted. The
        article as `user_id` now sees it, or None if there is no such article."""
        row = _referencing_article(lambda: self._session.execute(
            queries.favorite_statement(add=True),
            {"article_slug": slug, "viewer_id": user_id}).first())
        return _article(row) if row else None

    def unfavorite(self, slug: str, user_id: int) -> ArticleRow | None:
        """Idempotent, like favorite (a second unfavorite moves nothing)."""
        row = self._session.execute(queries.favorite_statement(add=False),
                                    {"article_slug": slug, "viewer_id": user_id}).first()
        return _article(row) if row else None

    def _note_latest(self, author_id: int) -> None:
        """After a deletion: the author's newest article time, found again, on their
        count row (the feed's cutoff).

        A statement of its own, after `_count` has locked that row: a concurrent writer
        of the same author waits for this transaction at its own `_count`, and in READ
        COMMITTED this statement's snapshot, taken after the lock, sees every article
        of the author committed before it. So the value is exact, not just recent."""
        self._session.execute(
            update(ArticleCount)
            .where(ArticleCount.kind == "author", ArticleCount.key == author_id)
            .values(latest_at=select(func.max(Article.created_at))
                    .where(Article.author_id == author_id).scalar_subquery()))

    def _count(self, moves: list[tuple[str, int, int]], latest: dict | None = None) -> None:
        """Add each step to its (kind, key) count in one statement, in key order
        (concurrent writers lock the rows in the same order: no deadlock). `latest`: an
        author's new article time, for their row's `latest_at`.

        An author's count row is copied onto their followers' follows rows by a trigger
        (migration 0005, models.FOLLOWS), in this same statement."""
        if not moves:
            return
        latest = latest or {}
        self._session.execute(queries.adding_to_counts(pg_insert(ArticleCount).values(
            [{"kind": kind, "key": key, "count": step,
              "latest_at": latest.get(key) if kind == "author" else None}
             for kind, key, step in sorted(moves)])))


class CommentRepository:
    def __init__(self, session: Session):
        self._session = session

    def of_article(self, slug: str, viewer_id: int | None) -> list[CommentRow] | None:
        """The article's comments, newest first; None if there is no such article."""
        rows = self._session.execute(queries.comments_statement(viewer_id is not None),
                                     {"slug": slug, "viewer_id": viewer_id}).all()
        if not rows:
            return None
        return [_comment(row) for row in rows if row.id is not None]

    def add(self, article_id: int, author_id: int, body: str) -> dict:
        row = _referencing_article(lambda: self._session.execute(
            insert(Comment).values(article_id=article_id, author_id=author_id, body=body)
            .returning(Comment.id, Comment.body, Comment.created_at, Comment.updated_at)).one())
        return row._asdict()

    def find(self, article_id: int, comment_id: int):
        return self._session.execute(
            select(Comment.id, Comment.author_id)
            .where(Comment.id == comment_id, Comment.article_id == article_id)).first()

    def delete(self, comment_id: int) -> None:
        self._session.execute(delete(Comment).where(Comment.id == comment_id))


__all__ = ["ArticleRef", "ArticleRepository", "ArticleRow", "ArticleVanished", "Author",
           "CommentRepository", "CommentRow", "SlugTaken"]

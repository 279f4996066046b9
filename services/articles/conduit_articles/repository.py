"""Reads and writes of the articles schema; one statement per call, no per-row queries."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conduit_articles import queries
from conduit_articles.models import Article, ArticleTag, Comment, Favorite, Tag
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
        if getattr(ex.orig, "pgcode", None) == FOREIGN_KEY_VIOLATION:
            raise ArticleVanished(str(ex.orig)) from ex
        raise


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
    body: str | None = None


@dataclass(frozen=True)
class ArticleRef:
    """Just enough of an article to check who may change it."""

    id: int
    slug: str
    title: str
    author_id: int


@dataclass(frozen=True)
class CommentRow:
    id: int
    article_id: int
    author_id: int
    body: str
    created_at: datetime
    updated_at: datetime


def _article(row) -> ArticleRow:
    values = row._asdict()
    values["tag_list"] = values["tag_list"] or []
    return ArticleRow(**values)


class ArticleRepository:
    def __init__(self, session: Session):
        self._session = session

    def commit(self) -> None:
        self._session.commit()

    # Reading

    def page(self, filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int
             ) -> tuple[list[ArticleRow], int]:
        rows = self._session.execute(*queries.page_query(filters, viewer_id, limit, offset))
        articles = [_article(row) for row in rows]
        total = self._session.execute(*queries.count_query(filters)).scalar_one()
        return articles, total

    def find(self, slug: str, viewer_id: int | None) -> ArticleRow | None:
        row = self._session.execute(*queries.single_query(viewer_id, slug=slug)).first()
        return _article(row) if row else None

    def get(self, article_id: int, viewer_id: int | None) -> ArticleRow:
        row = self._session.execute(
            *queries.single_query(viewer_id, article_id=article_id)).one()
        return _article(row)

    def find_ref(self, slug: str) -> ArticleRef | None:
        row = self._session.execute(
            select(Article.id, Article.slug, Article.title, Article.author_id)
            .where(Article.slug == slug)).first()
        return ArticleRef(**row._asdict()) if row else None

    def tags(self) -> list[str]:
        return list(self._session.execute(queries.tags_query()).scalars())

    # Writing

    def insert(self, *, slug: str, author_id: int, title: str, description: str, body: str
               ) -> int:
        statement = (insert(Article).values(slug=slug, author_id=author_id, title=title,
                                            description=description, body=body)
                     .returning(Article.id))
        return self._with_unique_slug(lambda: self._session.execute(statement).scalar_one())

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

    def set_tags(self, article_id: int, names: list[str], replace: bool = False) -> None:
        if replace:
            self._session.execute(delete(ArticleTag).where(ArticleTag.article_id == article_id))
        if not names:
            return
        self._session.execute(pg_insert(Tag).values([{"name": name} for name in names])
                              .on_conflict_do_nothing(index_elements=[Tag.name]))
        self._session.execute(insert(ArticleTag).from_select(
            ["article_id", "tag_id"],
            select(literal(article_id), Tag.id).where(Tag.name.in_(names))))

    def delete(self, article_id: int) -> None:
        """Comments, favorites and tag links go with it (ON DELETE CASCADE)."""
        self._session.execute(delete(Article).where(Article.id == article_id))

    def add_favorite(self, article_id: int, user_id: int) -> None:
        """Idempotent; the counter moves only when a row was really inserted."""
        inserted = _referencing_article(lambda: self._session.execute(
            pg_insert(Favorite).values(article_id=article_id, user_id=user_id)
            .on_conflict_do_nothing().returning(Favorite.article_id)).first())
        if inserted:
            self._move_favorites_count(article_id, +1)

    def remove_favorite(self, article_id: int, user_id: int) -> None:
        deleted = self._session.execute(
            delete(Favorite).where(Favorite.article_id == article_id, Favorite.user_id == user_id)
            .returning(Favorite.article_id)).first()
        if deleted:
            self._move_favorites_count(article_id, -1)

    def _move_favorites_count(self, article_id: int, step: int) -> None:
        # `count = count + step` re-reads the row under its lock: no lost update.
        self._session.execute(update(Article).where(Article.id == article_id)
                              .values(favorites_count=Article.favorites_count + step))


class CommentRepository:
    def __init__(self, session: Session):
        self._session = session

    def of_article(self, article_id: int) -> list[CommentRow]:
        rows = self._session.execute(
            select(*_COMMENT_COLUMNS).where(Comment.article_id == article_id)
            .order_by(Comment.created_at.desc(), Comment.id.desc()))
        return [CommentRow(**row._asdict()) for row in rows]

    def add(self, article_id: int, author_id: int, body: str) -> CommentRow:
        row = _referencing_article(lambda: self._session.execute(
            insert(Comment).values(article_id=article_id, author_id=author_id, body=body)
            .returning(*_COMMENT_COLUMNS)).one())
        return CommentRow(**row._asdict())

    def find(self, article_id: int, comment_id: int) -> CommentRow | None:
        row = self._session.execute(
            select(*_COMMENT_COLUMNS)
            .where(Comment.id == comment_id, Comment.article_id == article_id)).first()
        return CommentRow(**row._asdict()) if row else None

    def delete(self, comment_id: int) -> None:
        self._session.execute(delete(Comment).where(Comment.id == comment_id))


_COMMENT_COLUMNS = (Comment.id, Comment.article_id, Comment.author_id, Comment.body,
                    Comment.created_at, Comment.updated_at)

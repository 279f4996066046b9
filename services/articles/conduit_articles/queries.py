"""The SELECTs behind article pages, built once per shape with SQLAlchemy 2 select().

A page is two statements whatever its size: the page itself (tags aggregated and
`favorited` for the viewer computed per row of the page, in the same statement)
and the count of everything that matches.
"""
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import BigInteger, Select, any_, bindparam, exists, false, func, select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from conduit_articles.models import Article, ArticleTag, Favorite, Tag

NEWEST_FIRST = (Article.created_at.desc(), Article.id.desc())


@dataclass(frozen=True)
class ArticleFilter:
    """What a list asks for; None means "no condition"."""

    tag: str | None = None
    author_ids: tuple[int, ...] | None = None
    favorited_by: int | None = None

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which conditions apply: the statement depends on this, not on the values."""
        return (self.tag is not None, self.author_ids is not None,
                self.favorited_by is not None)

    def parameters(self) -> dict:
        values = {"tag": self.tag, "favorited_by": self.favorited_by}
        if self.author_ids is not None:
            values["author_ids"] = list(self.author_ids)
        return {name: value for name, value in values.items() if value is not None}


# Statements are built once per shape and cached: building a select() costs more
# Python time than SQLAlchemy's compiled cache saves afterwards. Values always
# travel as bound parameters.

def conditions(has_tag: bool, has_authors: bool, has_favorited: bool) -> list:
    clauses = []
    if has_authors:
        # One array parameter whatever the number of authors: one cached plan shape.
        clauses.append(Article.author_id == any_(
            bindparam("author_ids", type_=ARRAY(BigInteger))))
    if has_tag:
        tag_id = select(Tag.id).where(Tag.name == bindparam("tag")).scalar_subquery()
        clauses.append(exists().where(ArticleTag.article_id == Article.id,
                                      ArticleTag.tag_id == tag_id))
    if has_favorited:
        clauses.append(exists().where(Favorite.article_id == Article.id,
                                      Favorite.user_id == bindparam("favorited_by")))
    return clauses


def tag_list_column():
    return (select(func.array_agg(aggregate_order_by(Tag.name, Tag.name)))
            .join_from(ArticleTag, Tag, ArticleTag.tag_id == Tag.id)
            .where(ArticleTag.article_id == Article.id)
            .scalar_subquery()
            .label("tag_list"))


def favorited_column(with_viewer: bool):
    if not with_viewer:
        return false().label("favorited")
    return (exists().where(Favorite.article_id == Article.id,
                           Favorite.user_id == bindparam("viewer_id"))
            .label("favorited"))


def article_columns(with_viewer: bool, with_body: bool) -> list:
    columns = [Article.id, Article.slug, Article.title, Article.description,
               Article.author_id, Article.favorites_count, Article.created_at,
               Article.updated_at, tag_list_column(), favorited_column(with_viewer)]
    if with_body:
        columns.append(Article.body)
    return columns


@lru_cache(maxsize=16)
def _page_statement(shape: tuple[bool, bool, bool], with_viewer: bool) -> Select:
    """Pick the page's ids first, so tags and favorited are computed for those rows only."""
    page = (select(Article.id).where(*conditions(*shape)).order_by(*NEWEST_FIRST)
            .limit(bindparam("limit")).offset(bindparam("offset")).subquery("page"))
    return (select(*article_columns(with_viewer, with_body=False))
            .select_from(Article).join(page, page.c.id == Article.id)
            .order_by(*NEWEST_FIRST))


@lru_cache(maxsize=8)
def _count_statement(shape: tuple[bool, bool, bool]) -> Select:
    return select(func.count()).select_from(Article).where(*conditions(*shape))


@lru_cache(maxsize=4)
def _single_statement(with_viewer: bool, by_slug: bool) -> Select:
    key = Article.slug == bindparam("slug") if by_slug else Article.id == bindparam("id")
    return select(*article_columns(with_viewer, with_body=True)).where(key)


def _viewer(viewer_id: int | None) -> dict:
    return {} if viewer_id is None else {"viewer_id": viewer_id}


def page_query(filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int
               ) -> tuple[Select, dict]:
    parameters = {**filters.parameters(), **_viewer(viewer_id), "limit": limit, "offset": offset}
    return _page_statement(filters.shape, viewer_id is not None), parameters


def count_query(filters: ArticleFilter) -> tuple[Select, dict]:
    return _count_statement(filters.shape), filters.parameters()


def single_query(viewer_id: int | None, *, slug: str | None = None, article_id: int | None = None
                 ) -> tuple[Select, dict]:
    by_slug = slug is not None
    key = {"slug": slug} if by_slug else {"id": article_id}
    return _single_statement(viewer_id is not None, by_slug), {**key, **_viewer(viewer_id)}


@lru_cache(maxsize=1)
def tags_query() -> Select:
    """Tags in use, the most used first."""
    return (select(Tag.name).join(ArticleTag, ArticleTag.tag_id == Tag.id)
            .group_by(Tag.id, Tag.name).order_by(func.count().desc(), Tag.name))

"""The SELECTs behind article pages, built once per shape with SQLAlchemy 2 select().

A page is two statements whatever its size: the page itself (tags aggregated and
`favorited` for the viewer computed per row of the page, in the same statement)
and the count of everything that matches.
"""
from dataclasses import dataclass

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


def conditions(filters: ArticleFilter) -> list:
    clauses = []
    if filters.author_ids is not None:
        # One array parameter whatever the number of authors: one cached plan shape.
        ids = bindparam("author_ids", list(filters.author_ids), type_=ARRAY(BigInteger))
        clauses.append(Article.author_id == any_(ids))
    if filters.tag is not None:
        tag_id = select(Tag.id).where(Tag.name == filters.tag).scalar_subquery()
        clauses.append(exists().where(ArticleTag.article_id == Article.id,
                                      ArticleTag.tag_id == tag_id))
    if filters.favorited_by is not None:
        clauses.append(exists().where(Favorite.article_id == Article.id,
                                      Favorite.user_id == filters.favorited_by))
    return clauses


def tag_list_column():
    return (select(func.array_agg(aggregate_order_by(Tag.name, Tag.name)))
            .join_from(ArticleTag, Tag, ArticleTag.tag_id == Tag.id)
            .where(ArticleTag.article_id == Article.id)
            .scalar_subquery()
            .label("tag_list"))


def favorited_column(viewer_id: int | None):
    if viewer_id is None:
        return false().label("favorited")
    return (exists().where(Favorite.article_id == Article.id, Favorite.user_id == viewer_id)
            .label("favorited"))


def article_columns(viewer_id: int | None, with_body: bool) -> list:
    columns = [Article.id, Article.slug, Article.title, Article.description,
               Article.author_id, Article.favorites_count, Article.created_at,
               Article.updated_at, tag_list_column(), favorited_column(viewer_id)]
    if with_body:
        columns.append(Article.body)
    return columns


def page_query(filters: ArticleFilter, viewer_id: int | None, limit: int, offset: int) -> Select:
    """Pick the page's ids first, so tags and favorited are computed for those rows only."""
    page = (select(Article.id).where(*conditions(filters)).order_by(*NEWEST_FIRST)
            .limit(limit).offset(offset).subquery("page"))
    return (select(*article_columns(viewer_id, with_body=False))
            .select_from(Article).join(page, page.c.id == Article.id)
            .order_by(*NEWEST_FIRST))


def count_query(filters: ArticleFilter) -> Select:
    return select(func.count()).select_from(Article).where(*conditions(filters))


def single_query(viewer_id: int | None) -> Select:
    return select(*article_columns(viewer_id, with_body=True))


def tags_query() -> Select:
    """Tags in use, the most used first."""
    return (select(Tag.name).join(ArticleTag, ArticleTag.tag_id == Tag.id)
            .group_by(Tag.id, Tag.name).order_by(func.count().desc(), Tag.name))

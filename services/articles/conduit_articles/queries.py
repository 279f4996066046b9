"""The SELECTs behind every read, built once per shape with SQLAlchemy 2 select().

Every read is served from this schema alone: authors come from the `users` read
model, `following` from the `follows` read model. A list page is one statement:

- the page: the ids of the page from one index range (newest first), then those
  rows with their author, `favorited` and `following` for the viewer;
- its total as one more column, from the maintained `article_counts` (one row; for
  the feed, their copies on the viewer's follows rows), so its cost does not grow
  with the number of articles. Postgres evaluates that uncorrelated subquery once (an
  InitPlan). A page with no rows carries no total: past the end of the list, the
  repository asks for it with `count_query`, a second statement.

Deep pages still cost O(offset): the index range is walked up to `offset + limit`.
Combined filters (e.g. a tag *and* an author) are rare; their page and count scan
the articles that match one filter (documented in docs/architecture.md).
"""
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import (BigInteger, DateTime, Select, bindparam, cast, delete, exists, false,
                        func, literal, select, true, update)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from conduit_articles.models import (FOLLOWS, USERS, Article, ArticleCount, ArticleTag,
                                     Comment, Favorite, Tag)

# Reads are Core statements over the mapped tables: results are plain rows either way,
# and a Core statement skips the ORM's compile and loading steps (10 % of a small read's
# worker CPU, measured on /tags).
ARTICLES, ARTICLE_COUNTS, ARTICLE_TAGS = (Article.__table__, ArticleCount.__table__,
                                          ArticleTag.__table__)
COMMENTS, FAVORITES, TAGS = Comment.__table__, Favorite.__table__, Tag.__table__

NEWEST_FIRST = (ARTICLES.c.created_at.desc(), ARTICLES.c.id.desc())
# /tags lists the most used tags first, at most this many.
TAGS_LIMIT = 100


@dataclass(frozen=True)
class ArticleFilter:
    """What a list asks for; None means "no condition"."""

    tag: str | None = None
    author: str | None = None
    favorited: str | None = None
    feed_of: int | None = None

    @property
    def shape(self) -> tuple[bool, bool, bool, bool]:
        """Which conditions apply: the statement depends on this, not on the values."""
        return (self.tag is not None, self.author is not None, self.favorited is not None,
                self.feed_of is not None)

    def parameters(self) -> dict:
        values = {"tag": self.tag, "author": self.author, "favorited": self.favorited,
                  "feed_of": self.feed_of}
        return {name: value for name, value in values.items() if value is not None}


def _user_id(parameter: str):
    """The id of the user named by a bound parameter, in any case (None if unknown)."""
    named = func.lower(USERS.c.username) == func.lower(bindparam(parameter))
    return select(USERS.c.id).where(named).order_by(USERS.c.id).limit(1).scalar_subquery()


def _tag_id():
    return select(TAGS.c.id).where(TAGS.c.name == bindparam("tag")).scalar_subquery()


def _window(statement: Select, *order) -> Select:
    return statement.order_by(*order).limit(bindparam("limit")).offset(bindparam("offset"))


def _page_ids(shape: tuple[bool, bool, bool, bool]):
    """(id, created_at) of the page: one index range for each single filter (the
    feed's page: _feed_page_and_total)."""
    has_tag, has_author, has_favorited, _ = shape
    if sum(shape) > 1:
        return _window(select(ARTICLES.c.id, ARTICLES.c.created_at).where(*_conditions(shape)),
                       *NEWEST_FIRST)
    if has_tag:
        return _window(select(ARTICLE_TAGS.c.article_id.label("id"), ARTICLE_TAGS.c.created_at)
                       .where(ARTICLE_TAGS.c.tag_id == _tag_id()),
                       ARTICLE_TAGS.c.created_at.desc(), ARTICLE_TAGS.c.article_id.desc())
    if has_favorited:
        return _window(select(FAVORITES.c.article_id.label("id"),
                              FAVORITES.c.article_created_at.label("created_at"))
                       .where(FAVORITES.c.user_id == _user_id("favorited")),
                       FAVORITES.c.article_created_at.desc(), FAVORITES.c.article_id.desc())
    statement = select(ARTICLES.c.id, ARTICLES.c.created_at)
    if has_author:
        statement = statement.where(ARTICLES.c.author_id == _user_id("author"))
    return _window(statement, *NEWEST_FIRST)


def _feed_page_and_total():
    """The feed's page ids and its total, from the viewer's follows rows.

    Each follows row holds the followee's article count and `latest_at`, their newest
    article's time (copies of their count row). With depth = offset + limit, let C be
    the depth-th newest `latest_at` among the followees: those depth followees have an
    article each at C or later, so the page holds nothing older than C, and a followee
    whose newest article is older than C has nothing on it. So only the followees with
    `latest_at >= C` (depth of them, plus ties) are looked into, each for its articles
    since C: the cost follows the page's depth, not the number of followees. With fewer
    than depth followees that wrote anything there is no C, and every followee is
    looked into.
    """
    followed = _followed()
    # bigint: a deep offset plus the limit may pass the int4 range
    depth = cast(bindparam("limit"), BigInteger) + cast(bindparam("offset"), BigInteger)
    newest_of_depth = (select(followed.c.latest_at).where(followed.c.latest_at.is_not(None))
                       .order_by(followed.c.latest_at.desc()).offset(depth - 1).limit(1)
                       .scalar_subquery())
    cutoff = select(func.coalesce(newest_of_depth, cast(literal("-infinity"), DateTime(
        timezone=True))).label("at")).cte("cutoff")
    per_author = (select(ARTICLES.c.id, ARTICLES.c.created_at)
                  .where(ARTICLES.c.author_id == followed.c.author_id,
                         ARTICLES.c.created_at >= cutoff.c.at)
                  .order_by(*NEWEST_FIRST).limit(depth)
                  .lateral("per_author"))
    ids = (select(per_author.c.id, per_author.c.created_at)
           .select_from(followed)
           .join(cutoff, followed.c.latest_at >= cutoff.c.at)
           .join(per_author, true())
           .order_by(per_author.c.created_at.desc(), per_author.c.id.desc())
           .limit(bindparam("limit")).offset(bindparam("offset")))
    return ids, _feed_total(followed).scalar_subquery()


def _followed():
    """The viewer's followees with their article count and newest article's time: one
    range of the viewer's follows rows, which carry both (models.FOLLOWS)."""
    return (select(FOLLOWS.c.followee_id.label("author_id"),
                   FOLLOWS.c.followee_articles.label("count"),
                   FOLLOWS.c.followee_latest_at.label("latest_at"))
            .where(FOLLOWS.c.follower_id == bindparam("feed_of"))
            .cte("followed"))


def _feed_total(followed) -> Select:
    return select(func.coalesce(func.sum(followed.c.count), 0))


def _conditions(shape) -> list:
    has_tag, has_author, has_favorited, _ = shape
    clauses = []
    if has_author:
        clauses.append(ARTICLES.c.author_id == _user_id("author"))
    if has_tag:
        clauses.append(exists().where(ARTICLE_TAGS.c.article_id == ARTICLES.c.id,
                                      ARTICLE_TAGS.c.tag_id == _tag_id()))
    if has_favorited:
        clauses.append(exists().where(FAVORITES.c.article_id == ARTICLES.c.id,
                                      FAVORITES.c.user_id == _user_id("favorited")))
    return clauses


def _favorited(with_viewer: bool):
    if not with_viewer:
        return false().label("favorited")
    return (exists().where(FAVORITES.c.article_id == ARTICLES.c.id,
                           FAVORITES.c.user_id == bindparam("viewer_id")).label("favorited"))


def _following(with_viewer: bool, author_id):
    if not with_viewer:
        return false().label("author_following")
    return (exists().where(FOLLOWS.c.follower_id == bindparam("viewer_id"),
                           FOLLOWS.c.followee_id == author_id).label("author_following"))


def _author_columns(with_viewer: bool, author_id) -> list:
    return [USERS.c.username.label("author_username"), USERS.c.bio.label("author_bio"),
            USERS.c.image.label("author_image"), _following(with_viewer, author_id)]


def _article_columns(with_viewer: bool, with_body: bool) -> list:
    columns = [ARTICLES.c.id, ARTICLES.c.slug, ARTICLES.c.title, ARTICLES.c.description,
               ARTICLES.c.author_id, ARTICLES.c.favorites_count, ARTICLES.c.created_at,
               ARTICLES.c.updated_at, ARTICLES.c.tag_list, _favorited(with_viewer),
               *_author_columns(with_viewer, ARTICLES.c.author_id)]
    if with_body:
        columns.append(ARTICLES.c.body)
    return columns


def _with_author(statement: Select, author_id) -> Select:
    return statement.outerjoin(USERS, USERS.c.id == author_id)


@lru_cache(maxsize=32)
def _page_statement(shape: tuple[bool, bool, bool, bool], with_viewer: bool) -> Select:
    is_feed = shape[3]
    if is_feed:
        ids, total = _feed_page_and_total()
    else:
        ids, total = _page_ids(shape), _count_statement(shape).scalar_subquery()
    page = ids.subquery("page")
    statement = (select(*_article_columns(with_viewer, with_body=False), total.label("total"))
                 .select_from(page).join(ARTICLES, ARTICLES.c.id == page.c.id))
    return _with_author(statement, ARTICLES.c.author_id).order_by(*NEWEST_FIRST)


def _count_of(kind: str, key) -> Select:
    return select(func.coalesce(
        select(ARTICLE_COUNTS.c.count)
        .where(ARTICLE_COUNTS.c.kind == kind, ARTICLE_COUNTS.c.key == key)
        .scalar_subquery(), 0))


@lru_cache(maxsize=16)
def _count_statement(shape: tuple[bool, bool, bool, bool]) -> Select:
    has_tag, has_author, has_favorited, is_feed = shape
    if is_feed:
        return _feed_total(_followed())
    if sum(shape) > 1:
        return select(func.count()).select_from(ARTICLES).where(*_conditions(shape))
    if has_tag:
        return _count_of("tag", _tag_id())
    if has_author:
        return _count_of("author", _user_id("author"))
    if has_favorited:
        return _count_of("favoriter", _user_id("favorited"))
    return _count_of("all", literal(0))


@lru_cache(maxsize=4)
def _single_statement(with_viewer: bool, by_slug: bool) -> Select:
    key = ARTICLES.c.slug == bindparam("slug") if by_slug else ARTICLES.c.id == bindparam("id")
    statement = select(*_article_columns(with_viewer, with_body=True)).where(key)
    return _with_author(statement, ARTICLES.c.author_id)


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


def adding_to_counts(insert):
    """An INSERT of (kind, key, count[, latest_at]) rows into article_counts that adds
    each count to the row already there, and moves `latest_at` forward to a later one
    given (a new article's time; NULL leaves it): every writer moves the counts so."""
    return insert.on_conflict_do_update(
        index_elements=[ARTICLE_COUNTS.c.kind, ARTICLE_COUNTS.c.key],
        set_={"count": ARTICLE_COUNTS.c.count + insert.excluded["count"],
              # greatest() skips NULLs: a row without a time keeps its own
              "latest_at": func.greatest(ARTICLE_COUNTS.c.latest_at,
                                         insert.excluded["latest_at"])})


@lru_cache(maxsize=2)
def favorite_statement(add: bool) -> Select:
    """Favorite (`add`) or unfavorite the article `article_slug` for `viewer_id`, and read
    it back as the viewer now sees it: one statement, not a lookup, three writes, a read.

    The writes are data-modifying CTEs, each fed by the rows the one before it returned,
    so they run in the order every other writer locks in (the favorite row, the
    article's row, then the favoriter's count row): the counts move only when a row
    was really inserted or deleted (a repeated favorite changes nothing). The final
    SELECT sees the statement's snapshot, not its own writes, so it takes the new
    `favorites_count` from the UPDATE's RETURNING and `favorited` from what was asked.
    No row: there is no such article.
    """
    step = 1 if add else -1
    # Not named "slug": a parameter named like a column of the UPDATE's table would
    # become a SET of that column.
    target = (select(ARTICLES.c.id, ARTICLES.c.created_at)
              .where(ARTICLES.c.slug == bindparam("article_slug")).cte("target"))
    viewer = bindparam("viewer_id", type_=BigInteger)
    if add:
        changed = (pg_insert(FAVORITES)
                   .from_select(["article_id", "user_id", "article_created_at"],
                                select(target.c.id, viewer, target.c.created_at))
                   .on_conflict_do_nothing())
    else:
        changed = delete(FAVORITES).where(FAVORITES.c.article_id.in_(select(target.c.id)),
                                          FAVORITES.c.user_id == viewer)
    changed = changed.returning(FAVORITES.c.article_id).cte("changed")
    moved = (update(ARTICLES).where(ARTICLES.c.id.in_(select(changed.c.article_id)))
             .values(favorites_count=ARTICLES.c.favorites_count + step)
             .returning(ARTICLES.c.favorites_count).cte("moved"))
    counted = adding_to_counts(pg_insert(ARTICLE_COUNTS).from_select(
        ["kind", "key", "count"],
        select(literal("favoriter"), viewer, literal(step)).select_from(moved))).cte("counted")
    columns = [column for column in _article_columns(True, with_body=True)
               if column.name not in ("favorites_count", "favorited")]
    statement = (select(*columns,
                        func.coalesce(select(moved.c.favorites_count).scalar_subquery(),
                                      ARTICLES.c.favorites_count).label("favorites_count"),
                        literal(add).label("favorited"))
                 .where(ARTICLES.c.id == select(target.c.id).scalar_subquery()))
    return _with_author(statement, ARTICLES.c.author_id).add_cte(changed, moved, counted)


@lru_cache(maxsize=2)
def comments_statement(with_viewer: bool) -> Select:
    """The article (to tell 404 from "no comments") and its comments, newest first.

    One statement: an article without comments is one row with a NULL comment id.
    """
    statement = (select(ARTICLES.c.id.label("article_id"), COMMENTS.c.id, COMMENTS.c.author_id,
                        COMMENTS.c.body, COMMENTS.c.created_at, COMMENTS.c.updated_at,
                        *_author_columns(with_viewer, COMMENTS.c.author_id))
                 .select_from(ARTICLES)
                 .outerjoin(COMMENTS, COMMENTS.c.article_id == ARTICLES.c.id)
                 .where(ARTICLES.c.slug == bindparam("slug")))
    return (_with_author(statement, COMMENTS.c.author_id)
            .order_by(COMMENTS.c.created_at.desc(), COMMENTS.c.id.desc()))


@lru_cache(maxsize=1)
def tags_query() -> Select:
    """Tags in use, the most used first (ties by name), from the maintained counts.

    The most used TAGS_LIMIT counts, and any tied with the last of them, come first
    from the (kind, count DESC) index; only those are joined to their names and sorted.
    The answer is the same as sorting every tag in use, which is what Postgres did
    before: at 1,012 tags that read 870 buffers and took 0.69 ms a query, this reads
    about 100 and takes 0.32-0.37 (prepared, bench/analysis.md).
    """
    top = (select(ARTICLE_COUNTS.c.key, ARTICLE_COUNTS.c.count)
           .where(ARTICLE_COUNTS.c.kind == "tag", ARTICLE_COUNTS.c.count > 0)
           .order_by(ARTICLE_COUNTS.c.count.desc())
           .fetch(TAGS_LIMIT, with_ties=True)
           .subquery("top"))
    return (select(TAGS.c.name).join(top, top.c.key == TAGS.c.id)
            .order_by(top.c.count.desc(), TAGS.c.name).limit(TAGS_LIMIT))


@lru_cache(maxsize=1)
def author_statement() -> Select:
    """One user of the read model, as an author (with `following` for themselves: false)."""
    return select(*_author_columns(False, USERS.c.id)).where(USERS.c.id == bindparam("id"))

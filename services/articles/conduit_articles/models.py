"""Tables of the articles schema.

Owned: articles, tags, article_tags, favorites, comments and the maintained counts.
Read models (fed by the projector): `users` (auth's users) and `follows` (profiles'
follows). Users are referenced by id only. A follows row also carries a copy of the
followee's author count row, kept by triggers on every write of that row (see FOLLOWS).

Some values are copied on purpose, so that every list is an index range scan:
an article's sorted tag names (`tag_list`) and its `created_at` on its tag links
and favorites. `created_at` never changes, so the copies never go stale.
"""
from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Identity,
                        Index, Integer, MetaData, Table, Text, func, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conduit_common.db import NAMING_CONVENTION
from conduit_common.events.projector import projection_positions_table
from conduit_common.events.users import users_table

metadata = MetaData(schema="articles", naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    slug: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    author_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Kept in step with `favorites` in the same transaction (see repository).
    favorites_count: Mapped[int] = mapped_column(Integer, nullable=False,
                                                 server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()
    # The names of its tags, sorted: what a page shows, without a join per row.
    tag_list: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False,
                                                server_default=text("'{}'"))

    __table_args__ = (
        Index("ix_articles_created_at_id", created_at.desc(), id.desc()),
        Index("ix_articles_author_id_created_at_id", author_id, created_at.desc(), id.desc()),
        CheckConstraint("favorites_count >= 0", name="favorites_count_not_negative"),
    )


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)


class ArticleTag(Base):
    __tablename__ = "article_tags"

    article_id: Mapped[int] = mapped_column(
        ForeignKey(Article.id, ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey(Tag.id, ondelete="CASCADE"), primary_key=True)
    # The article's created_at: a tag's page is a range of this index.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_article_tags_tag_id_created_at_article_id", "tag_id",
                            created_at.desc(), article_id.desc()),)


class Favorite(Base):
    __tablename__ = "favorites"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey(Article.id, ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = _created_at()
    # The article's created_at: "favorited by" pages are a range of this index.
    article_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_favorites_user_id_article_created_at_article_id", user_id,
                            article_created_at.desc(), article_id.desc()),)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey(Article.id, ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _created_at()

    __table_args__ = (Index("ix_comments_article_id_created_at", article_id, created_at),)


class ArticleCount(Base):
    """How many articles match a list filter, moved in the write's transaction.

    kind 'all' (key 0), 'tag' (key: tag id), 'author' (key: user id), 'favoriter'
    (key: user id). `articlesCount` reads one row instead of counting the set.

    An author's row also keeps `latest_at`, the `created_at` of their newest article
    (None without one), so that the feed looks into the articles of only the followees
    that can be on the page (queries.py), not of every followee. Each of their
    followers' rows in `follows` holds a copy of both (see FOLLOWS).
    """

    __tablename__ = "article_counts"

    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_article_counts_kind_count", kind, count.desc()),)


# Read models and the projector's positions.
USERS = users_table(metadata)
FOLLOWS = Table(
    "follows", metadata,
    Column("follower_id", BigInteger, primary_key=True),
    Column("followee_id", BigInteger, primary_key=True),
    # The followee's author count row (`count`, `latest_at`), copied onto each of their
    # followers' rows: the feed's total and cutoff then read one range of the follower's
    # rows instead of one count row per followee (queries._followed). Fan-out on write:
    # a trigger on article_counts copies a changed author row onto every follower's row
    # (migration 0005), whoever writes it; the projector copies it when a follow lands
    # (projections.py). Both hold the count row's lock, so no copy is ever stale.
    Column("followee_articles", BigInteger, nullable=False, server_default=text("0")),
    Column("followee_latest_at", DateTime(timezone=True)),
    # The fan-out's "every follower of this author".
    Index("ix_follows_followee_id", "followee_id"),
)
POSITIONS = projection_positions_table(metadata)

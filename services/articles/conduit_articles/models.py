"""Tables of the articles schema. Users live in auth: they are referenced by id only."""
from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index,
                        Integer, MetaData, Text, func, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conduit_common.db import NAMING_CONVENTION

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

    __table_args__ = (
        Index("ix_articles_created_at_id", created_at.desc(), id.desc()),
        Index("ix_articles_author_id_created_at", author_id, created_at.desc()),
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

    __table_args__ = (Index("ix_article_tags_tag_id_article_id", "tag_id", "article_id"),)


class Favorite(Base):
    __tablename__ = "favorites"

    # The primary key (user_id, article_id) serves the "favorited by" filter.
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey(Article.id, ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = _created_at()


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

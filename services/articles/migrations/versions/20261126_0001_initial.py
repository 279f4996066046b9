"""initial: articles, tags, article_tags, favorites, comments

Revision ID: 0001
Revises:
Create Date: 2026-11-26 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "articles"


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _article_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["article_id"], [f"{SCHEMA}.articles.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_article_id_articles")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("favorites_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("slug", name="uq_articles_slug"),
        sa.CheckConstraint("favorites_count >= 0", name="ck_articles_favorites_count_not_negative"),
        schema=SCHEMA,
    )
    # Newest first (the global list) and per author (author filter, feed).
    op.create_index("ix_articles_created_at_id", "articles",
                    [sa.text("created_at DESC"), sa.text("id DESC")], schema=SCHEMA)
    op.create_index("ix_articles_author_id_created_at", "articles",
                    ["author_id", sa.text("created_at DESC")], schema=SCHEMA)

    op.create_table(
        "tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("name", name="uq_tags_name"),
        schema=SCHEMA,
    )
    op.create_table(
        "article_tags",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("tag_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "tag_id", name="pk_article_tags"),
        _article_fk("article_tags"),
        sa.ForeignKeyConstraint(["tag_id"], [f"{SCHEMA}.tags.id"], ondelete="CASCADE",
                                name="fk_article_tags_tag_id_tags"),
        schema=SCHEMA,
    )
    # The tag filter goes from a tag to its articles.
    op.create_index("ix_article_tags_tag_id_article_id", "article_tags",
                    ["tag_id", "article_id"], schema=SCHEMA)

    op.create_table(
        "favorites",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        _timestamp("created_at"),
        # (user_id, article_id) serves the "favorited by" filter and idempotency.
        sa.PrimaryKeyConstraint("user_id", "article_id", name="pk_favorites"),
        _article_fk("favorites"),
        schema=SCHEMA,
    )
    op.create_index("ix_favorites_article_id", "favorites", ["article_id"], schema=SCHEMA)

    op.create_table(
        "comments",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        _article_fk("comments"),
        schema=SCHEMA,
    )
    op.create_index("ix_comments_article_id_created_at", "comments",
                    ["article_id", "created_at"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("comments", schema=SCHEMA)
    op.drop_table("favorites", schema=SCHEMA)
    op.drop_table("article_tags", schema=SCHEMA)
    op.drop_table("tags", schema=SCHEMA)
    op.drop_table("articles", schema=SCHEMA)

"""read models (users, follows), maintained counts and the copies lists range over

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 18:45:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from conduit_common.events.ddl import (create_projection_positions_v1, create_users_table_v1,
                                       drop_projection_positions_v1)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "articles"


def _copy_created_at(table: str, column: str) -> None:
    op.add_column(table, sa.Column(column, sa.DateTime(timezone=True)), schema=SCHEMA)
    op.execute(f"UPDATE {SCHEMA}.{table} t SET {column} = a.created_at "
               f"FROM {SCHEMA}.articles a WHERE a.id = t.article_id")
    op.alter_column(table, column, nullable=False, schema=SCHEMA)


def upgrade() -> None:
    op.add_column("articles", sa.Column("tag_list", ARRAY(sa.Text()), nullable=False,
                                        server_default=sa.text("'{}'")), schema=SCHEMA)
    op.execute(f"""
        UPDATE {SCHEMA}.articles a SET tag_list = t.names FROM (
            SELECT at.article_id, array_agg(tg.name ORDER BY tg.name) AS names
            FROM {SCHEMA}.article_tags at JOIN {SCHEMA}.tags tg ON tg.id = at.tag_id
            GROUP BY at.article_id) t
        WHERE a.id = t.article_id""")
    op.drop_index("ix_articles_author_id_created_at", "articles", schema=SCHEMA)
    op.create_index("ix_articles_author_id_created_at_id", "articles",
                    ["author_id", sa.text("created_at DESC"), sa.text("id DESC")], schema=SCHEMA)

    _copy_created_at("article_tags", "created_at")
    op.drop_index("ix_article_tags_tag_id_article_id", "article_tags", schema=SCHEMA)
    op.create_index("ix_article_tags_tag_id_created_at_article_id", "article_tags",
                    ["tag_id", sa.text("created_at DESC"), sa.text("article_id DESC")],
                    schema=SCHEMA)
    _copy_created_at("favorites", "article_created_at")
    op.create_index("ix_favorites_user_id_article_created_at_article_id", "favorites",
                    ["user_id", sa.text("article_created_at DESC"), sa.text("article_id DESC")],
                    schema=SCHEMA)

    op.create_table(
        "article_counts",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_article_counts"),
        schema=SCHEMA,
    )
    op.create_index("ix_article_counts_kind_count", "article_counts",
                    ["kind", sa.text("count DESC")], schema=SCHEMA)
    # One scan of the existing data now; from here on every write moves the counts.
    op.execute(f"""
        INSERT INTO {SCHEMA}.article_counts (kind, key, count)
        SELECT 'all', 0, count(*) FROM {SCHEMA}.articles
        UNION ALL SELECT 'author', author_id, count(*) FROM {SCHEMA}.articles GROUP BY author_id
        UNION ALL SELECT 'tag', tag_id, count(*) FROM {SCHEMA}.article_tags GROUP BY tag_id
        UNION ALL SELECT 'favoriter', user_id, count(*) FROM {SCHEMA}.favorites GROUP BY user_id""")

    # Read models, filled by the projector from the owners' snapshots and events.
    create_users_table_v1(SCHEMA)
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.BigInteger(), nullable=False),
        sa.Column("followee_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name="pk_follows"),
        schema=SCHEMA,
    )
    create_projection_positions_v1(SCHEMA)


def downgrade() -> None:
    drop_projection_positions_v1(SCHEMA)
    op.drop_table("follows", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)
    op.drop_table("article_counts", schema=SCHEMA)
    op.drop_index("ix_favorites_user_id_article_created_at_article_id", "favorites",
                  schema=SCHEMA)
    op.drop_column("favorites", "article_created_at", schema=SCHEMA)
    op.drop_index("ix_article_tags_tag_id_created_at_article_id", "article_tags", schema=SCHEMA)
    op.create_index("ix_article_tags_tag_id_article_id", "article_tags", ["tag_id", "article_id"],
                    schema=SCHEMA)
    op.drop_column("article_tags", "created_at", schema=SCHEMA)
    op.drop_index("ix_articles_author_id_created_at_id", "articles", schema=SCHEMA)
    op.create_index("ix_articles_author_id_created_at", "articles",
                    ["author_id", sa.text("created_at DESC")], schema=SCHEMA)
    op.drop_column("articles", "tag_list", schema=SCHEMA)

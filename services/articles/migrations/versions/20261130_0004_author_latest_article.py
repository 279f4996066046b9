"""an author's count row keeps the time of their newest article (the feed's cutoff)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "articles"


def upgrade() -> None:
    op.add_column("article_counts", sa.Column("latest_at", sa.DateTime(timezone=True)),
                  schema=SCHEMA)
    # One pass over the (author_id, created_at DESC) index; new articles keep it up to
    # date from here on (ArticleRepository).
    op.execute(f"""
        UPDATE {SCHEMA}.article_counts c SET latest_at = a.latest_at
        FROM (SELECT author_id, max(created_at) AS latest_at
              FROM {SCHEMA}.articles GROUP BY author_id) a
        WHERE c.kind = 'author' AND c.key = a.author_id""")


def downgrade() -> None:
    op.drop_column("article_counts", "latest_at", schema=SCHEMA)

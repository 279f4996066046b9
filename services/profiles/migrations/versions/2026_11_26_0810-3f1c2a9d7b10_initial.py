"""initial: follows

Revision ID: 3f1c2a9d7b10
Revises:
Create Date: 2026-11-26 08:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = "3f1c2a9d7b10"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.BigInteger(), nullable=False),
        sa.Column("followee_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("follower_id <> followee_id", name=op.f("ck_follows_not_self")),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follows")),
        schema="profiles",
    )
    # The primary key serves "whom does X follow"; this index serves "who follows X".
    op.create_index(op.f("ix_follows_followee_id"), "follows", ["followee_id"], unique=False, schema="profiles")


def downgrade() -> None:
    op.drop_index(op.f("ix_follows_followee_id"), table_name="follows", schema="profiles")
    op.drop_table("follows", schema="profiles")

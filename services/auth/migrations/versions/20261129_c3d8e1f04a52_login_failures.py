"""failed logins per account and client address (login backoff)

Revision ID: c3d8e1f04a52
Revises: 7a41c0e2b5d3
Create Date: 2026-11-29 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "c3d8e1f04a52"
down_revision = "7a41c0e2b5d3"
branch_labels = None
depends_on = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "client", name="pk_login_failures"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("login_failures", schema=SCHEMA)

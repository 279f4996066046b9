"""initial: users with case-insensitive unique username and email

Revision ID: 3f1c2a7b9d10
Revises:
Create Date: 2026-11-26 08:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "3f1c2a7b9d10"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "auth"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("image", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        schema=SCHEMA,
    )
    # Case-insensitive uniqueness lives in the database, so that concurrent
    # registrations cannot both win. The names are what the service maps to fields.
    op.create_index("uq_users_lower_username", "users", [sa.text("lower(username)")],
                    unique=True, schema=SCHEMA)
    op.create_index("uq_users_lower_email", "users", [sa.text("lower(email)")],
                    unique=True, schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("uq_users_lower_email", table_name="users", schema=SCHEMA)
    op.drop_index("uq_users_lower_username", table_name="users", schema=SCHEMA)
    op.drop_table("users", schema=SCHEMA)

"""user events: version columns and the outbox

Revision ID: 7a41c0e2b5d3
Revises: 3f1c2a7b9d10
Create Date: 2026-11-29 18:00:00
"""
from alembic import op
import sqlalchemy as sa

from conduit_common.events.ddl import create_outbox_v1, drop_outbox_v1

revision = "7a41c0e2b5d3"
down_revision = "3f1c2a7b9d10"
branch_labels = None
depends_on = None

SCHEMA = "auth"


def upgrade() -> None:
    op.add_column("users", sa.Column("version", sa.BigInteger(), server_default=sa.text("1"),
                                     nullable=False), schema=SCHEMA)
    op.add_column("users", sa.Column("token_version", sa.Integer(), server_default=sa.text("0"),
                                     nullable=False), schema=SCHEMA)
    # Users registered before this revision reach the consumers through the snapshot
    # every new projection starts from: no events are back-filled here.
    create_outbox_v1(SCHEMA)


def downgrade() -> None:
    drop_outbox_v1(SCHEMA)
    op.drop_column("users", "token_version", schema=SCHEMA)
    op.drop_column("users", "version", schema=SCHEMA)

"""number events at commit: feed positions in commit order, not transaction ids

Revision ID: 9e5b7d21c4f8
Revises: c3d8e1f04a52
Create Date: 2026-11-29 21:00:00
"""
from conduit_common.events.ddl import create_commit_order_v2, drop_commit_order_v2

revision = "9e5b7d21c4f8"
down_revision = "c3d8e1f04a52"
branch_labels = None
depends_on = None

SCHEMA = "auth"


def upgrade() -> None:
    # Consumers' old positions are forgotten: each projection rebuilds from a snapshot.
    create_commit_order_v2(SCHEMA)


def downgrade() -> None:
    drop_commit_order_v2(SCHEMA)

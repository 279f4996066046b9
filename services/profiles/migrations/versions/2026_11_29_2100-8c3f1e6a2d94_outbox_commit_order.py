"""number follow events at commit; the users projection's position becomes a number

Revision ID: 8c3f1e6a2d94
Revises: 5b2e9c4d1a07
Create Date: 2026-11-29 21:00:00
"""
from conduit_common.events.ddl import (create_commit_order_v2, create_projection_positions_v2,
                                       drop_commit_order_v2, drop_projection_positions_v2)

revision = "8c3f1e6a2d94"
down_revision = "5b2e9c4d1a07"
branch_labels = None
depends_on = None

SCHEMA = "profiles"


def upgrade() -> None:
    create_commit_order_v2(SCHEMA)
    # The users projection is rebuilt from auth's snapshot on the projector's next start.
    create_projection_positions_v2(SCHEMA)


def downgrade() -> None:
    drop_projection_positions_v2(SCHEMA)
    drop_commit_order_v2(SCHEMA)

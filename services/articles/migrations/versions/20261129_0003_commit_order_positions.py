"""projection positions are the owners' commit sequence numbers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 21:00:00
"""
from conduit_common.events.ddl import (create_projection_positions_v2,
                                       drop_projection_positions_v2)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "articles"


def upgrade() -> None:
    # The users and follows projections are rebuilt from their owners' snapshots on
    # the projector's next start.
    create_projection_positions_v2(SCHEMA)


def downgrade() -> None:
    drop_projection_positions_v2(SCHEMA)

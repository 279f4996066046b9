"""read model of auth's users, the projector's position, and follow events

Revision ID: 5b2e9c4d1a07
Revises: 3f1c2a9d7b10
Create Date: 2026-11-29 18:30:00
"""
from conduit_common.events.ddl import (create_outbox_v1, create_projection_positions_v1,
                                       create_users_table_v1, drop_outbox_v1,
                                       drop_projection_positions_v1)
from alembic import op

revision = "5b2e9c4d1a07"
down_revision = "3f1c2a9d7b10"
branch_labels = None
depends_on = None

SCHEMA = "profiles"


def upgrade() -> None:
    # Filled by the projector from auth's snapshot and events (empty until it runs).
    create_users_table_v1(SCHEMA)
    create_projection_positions_v1(SCHEMA)
    # Follows made before this revision reach articles through its first snapshot.
    create_outbox_v1(SCHEMA)


def downgrade() -> None:
    drop_outbox_v1(SCHEMA)
    drop_projection_positions_v1(SCHEMA)
    op.drop_table("users", schema=SCHEMA)

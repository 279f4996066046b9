"""Tables of the profiles schema: follows (owned) and a read-only copy of auth's users.

Users live in auth; `users` here is fed by the projector from auth's events and is
never written by a request. Follows reference users by id only, no foreign keys.
"""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conduit_common.db import NAMING_CONVENTION
from conduit_common.events.outbox import outbox_tables
from conduit_common.events.projector import projection_positions_table
from conduit_common.events.users import users_table

SCHEMA = "profiles"

metadata = MetaData(schema=SCHEMA, naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    metadata = metadata


class Follow(Base):
    """`follower_id` follows `followee_id` (both are auth user ids)."""

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint("follower_id <> followee_id", name="not_self"),
        Index(None, "followee_id"),
    )

    follower_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    followee_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now())


# Read model (auth's users) and the projector's position.
USERS = users_table(metadata)
POSITIONS = projection_positions_table(metadata)
# Follow events for articles (see events.py).
OUTBOX = outbox_tables(metadata)

"""Tables of the profiles schema. Users live in auth: ids only, no foreign keys."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conduit_common.db import NAMING_CONVENTION

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

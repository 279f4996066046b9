"""Tables of the profiles schema. Users live in auth: ids only, no foreign keys."""
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA = "profiles"

metadata = MetaData(schema=SCHEMA, naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


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

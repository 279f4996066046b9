"""Tables of the auth schema: users, nothing else."""
from datetime import datetime

from sqlalchemy import (BigInteger, DateTime, Identity, Index, Integer, MetaData, String, Text,
                        func, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conduit_common.db import NAMING_CONVENTION
from conduit_common.events.outbox import outbox_tables

SCHEMA = "auth"

metadata = MetaData(schema=SCHEMA, naming_convention=NAMING_CONVENTION)

# Uniqueness is case-insensitive and enforced by these indexes, so that a race
# between two registrations cannot slip past it. services.py maps a violation
# back to the field by the index's name.
USERNAME_INDEX = "uq_users_lower_username"
EMAIL_INDEX = "uq_users_lower_email"


class Base(DeclarativeBase):
    metadata = metadata


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(Text)
    bio: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now(),
                                                 onupdate=func.now())
    # Raised on every change and carried by the user events: consumers keep the newest.
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))
    # Raised when the password changes (security work): tokens of older versions die.
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    __table_args__ = (
        Index(USERNAME_INDEX, func.lower(username), unique=True),
        Index(EMAIL_INDEX, func.lower(email), unique=True),
    )

    def __repr__(self) -> str:  # never shows the hash
        return f"User(id={self.id!r}, username={self.username!r})"


class LoginFailure(Base):
    """Failed logins in a row, per account and client address (see services.py)."""

    __tablename__ = "login_failures"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The user events (see events.py), written in the same transaction as the change.
OUTBOX = outbox_tables(metadata)

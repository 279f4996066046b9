"""Reading and writing users; the only module that speaks SQL."""
from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conduit_auth import events
from conduit_auth.models import EMAIL_INDEX, USERNAME_INDEX, LoginFailure, User

_FIELD_OF_INDEX = {USERNAME_INDEX: "username", EMAIL_INDEX: "email"}
_USERS = User.__table__
_USER_BY_ID = select(_USERS).where(_USERS.c.id == bindparam("id"))


class AlreadyTaken(Exception):
    """Another user holds this username or email (compared case-insensitively)."""

    def __init__(self, field: str):
        super().__init__(f"{field} is already taken")
        self.field = field


class UserRepository:
    def __init__(self, session: Session):
        self._session = session

    def get(self, user_id: int, for_update: bool = False) -> User | None:
        """The user; `for_update` locks the row, so versions rise one change at a time."""
        return self._session.get(User, user_id, with_for_update=for_update or None)

    def row(self, user_id: int):
        """The user's columns as a row (a Core read: no ORM object), or None; works on
        a read request's Connection as well as on a Session."""
        return self._session.execute(_USER_BY_ID, {"id": user_id}).first()

    def by_email(self, email: str) -> User | None:
        statement = select(User).where(func.lower(User.email) == func.lower(email))
        return self._session.scalars(statement).one_or_none()

    def taken_fields(self, username: str | None, email: str | None,
                     exclude_id: int | None = None) -> set[str]:
        """Which of username/email another user already holds, in one query."""
        checks = {}
        if username is not None:
            checks["username"] = func.lower(User.username) == func.lower(username)
        if email is not None:
            checks["email"] = func.lower(User.email) == func.lower(email)
        if not checks:
            return set()
        statement = (select(*(check.label(field) for field, check in checks.items()))
                     .where(or_(*checks.values())))
        if exclude_id is not None:
            statement = statement.where(User.id != exclude_id)
        rows = self._session.execute(statement).mappings()
        return {field for row in rows for field in checks if row[field]}

    def snapshot(self, after_id: int, limit: int) -> list[dict]:
        """Public state of users with an id above `after_id`, by id (for consumers)."""
        rows = self._session.execute(
            select(User.id, User.username, User.bio, User.image, User.version,
                   User.token_version).where(User.id > after_id).order_by(User.id).limit(limit))
        return [row._asdict() for row in rows]

    def login_failures(self, user_id: int, client: str) -> tuple[int, datetime | None]:
        row = self._session.execute(
            select(LoginFailure.failures, LoginFailure.last_failed_at)
            .where(LoginFailure.user_id == user_id, LoginFailure.client == client)).first()
        return (row.failures, row.last_failed_at) if row else (0, None)

    def record_login_failure(self, user_id: int, client: str, at: datetime) -> None:
        """Count it and commit now: the request itself fails (401) and rolls back."""
        statement = pg_insert(LoginFailure).values(user_id=user_id, client=client, failures=1,
                                                   last_failed_at=at)
        self._session.execute(statement.on_conflict_do_update(
            index_elements=[LoginFailure.user_id, LoginFailure.client],
            set_={"failures": LoginFailure.failures + 1, "last_failed_at": at}))
        self._session.commit()

    def clear_login_failures(self, user_id: int, client: str) -> None:
        self._session.execute(delete(LoginFailure).where(
            LoginFailure.user_id == user_id, LoginFailure.client == client))

    def publish(self, event_type: str, user: User) -> None:
        """Record the user's new state in the outbox, in this unit of work."""
        events.outbox.record(self._session, event_type, events.user_state(user))

    def add(self, user: User) -> User:
        self._session.add(user)
        self.save()
        return user

    def save(self) -> None:
        """Write pending changes now, turning a uniqueness violation into AlreadyTaken.

        A violation rolls the session back: the unit of work (one request) failed.
        """
        try:
            self._session.flush()
        except IntegrityError as ex:
            self._session.rollback()
            field = _FIELD_OF_INDEX.get(_constraint_name(ex))
            if field is None:
                raise
            raise AlreadyTaken(field) from ex


def _constraint_name(ex: IntegrityError) -> str | None:
    diag = getattr(ex.orig, "diag", None)
    return getattr(diag, "constraint_name", None)

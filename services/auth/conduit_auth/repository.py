"""Reading and writing users; the only module that speaks SQL."""
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import BigInteger, Text, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from conduit_auth.models import EMAIL_INDEX, USERNAME_INDEX, User

_FIELD_OF_INDEX = {USERNAME_INDEX: "username", EMAIL_INDEX: "email"}


class AlreadyTaken(Exception):
    """Another user holds this username or email (compared case-insensitively)."""

    def __init__(self, field: str):
        super().__init__(f"{field} is already taken")
        self.field = field


class UserRepository:
    def __init__(self, session: Session):
        self._session = session

    def get(self, user_id: int) -> User | None:
        return self._session.get(User, user_id)

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

    def find(self, ids: Iterable[int] = (), usernames: Iterable[str] = ()) -> list:
        """Public fields of users by id or by (case-insensitive) username, ordered by id.

        One query; rows, not entities: the hot path of every list page elsewhere.
        """
        ids, usernames = list(ids), list(usernames)
        if not ids and not usernames:
            return []
        return list(self._session.execute(_find_statement(), {"ids": ids, "names": usernames}))

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


@lru_cache(maxsize=1)
def _find_statement():
    """Built once; ids and names travel as two array parameters."""
    # lower() on both sides, in SQL: the same function as the unique index.
    names = select(func.lower(func.unnest(bindparam("names", type_=ARRAY(Text))))).scalar_subquery()
    return (select(User.id, User.username, User.bio, User.image)
            .where(or_(User.id == any_(bindparam("ids", type_=ARRAY(BigInteger))),
                       func.lower(User.username) == any_(func.array(names))))
            .order_by(User.id))

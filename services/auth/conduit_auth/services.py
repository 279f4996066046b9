"""The rules of the auth context: plain values in, domain exceptions out.

Collaborators (password hasher, token codec) come through the constructor; the
repository comes with each call, bound to the request's session.
"""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from conduit_auth import events, messages
from conduit_auth.models import User
from conduit_auth.passwords import Passwords
from conduit_auth.repository import AlreadyTaken, UserRepository
from conduit_common.errors import TooManyRequests, Unauthorized, Unprocessable
from conduit_common.tokens import TokenCodec

_PROFILE_FIELDS = ("username", "email", "bio", "image")

# Failed logins per account and client address: the first few are free, then each
# try waits twice as long as the last, up to a quarter of an hour. The account is
# never locked: the wait is per client address, so somebody guessing from elsewhere
# cannot keep its owner out, and a correct password after the wait always works.
FREE_FAILURES = 5
MAX_BACKOFF_SECONDS = 900


def backoff_seconds(failures: int) -> int:
    if failures < FREE_FAILURES:
        return 0
    return min(2 ** (failures - FREE_FAILURES), MAX_BACKOFF_SECONDS)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Account:
    """The signed-in user as the RealWorld API shows it (never the password)."""

    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class AccountService:
    def __init__(self, passwords: Passwords, codec: TokenCodec,
                 clock: Callable[[], datetime] = _now):
        self._passwords = passwords
        self._codec = codec
        self._clock = clock

    def register(self, users: UserRepository, username: str, email: str,
                 password: str) -> Account:
        # Checked first to report every taken field and to skip the hash; the
        # unique indexes still decide when two registrations race.
        self._ensure_free(users, username=username, email=email)
        user = User(username=username, email=email, version=1, token_version=0,
                    password_hash=self._passwords.hash(password))
        _saving(lambda: users.add(user))
        users.publish(events.USER_REGISTERED, user)
        return self._account(user, self._issue(user))

    def login(self, users: UserRepository, email: str, password: str,
              client: str = "unknown") -> Account:
        user = users.by_email(email)
        if user is None:
            self._passwords.burn(password)
            raise Unauthorized(messages.LOGIN_FAILED)
        failures, last_failed_at = users.login_failures(user.id, client)
        self._ensure_not_backing_off(failures, last_failed_at)
        if not self._passwords.verify(user.password_hash, password):
            users.record_login_failure(user.id, client, self._clock())
            raise Unauthorized(messages.LOGIN_FAILED)
        if failures:
            users.clear_login_failures(user.id, client)
        if self._passwords.needs_rehash(user.password_hash):
            user.password_hash = self._passwords.hash(password)
            users.save()
        return self._account(user, self._issue(user))

    def current(self, users: UserRepository, user_id: int, token: str,
                known=None) -> Account:
        """`known`: the user's row as the token check already read it, if it did."""
        user = known if known is not None else users.row(user_id)
        if user is None:
            raise Unauthorized(messages.USER_GONE)
        return self._account(user, token)

    def _ensure_not_backing_off(self, failures: int, last_failed_at: datetime | None) -> None:
        wait = backoff_seconds(failures)
        if wait and last_failed_at is not None:
            remaining = wait - (self._clock() - last_failed_at).total_seconds()
            if remaining > 0:
                seconds = int(remaining) + 1
                raise TooManyRequests(messages.LOGIN_BACKOFF.format(seconds=seconds), seconds)

    def update(self, users: UserRepository, user_id: int, changes: dict) -> Account:
        """Apply the given fields (absent ones stay); answer with a fresh token.

        A new password needs the current one, and revokes every token issued before.
        """
        user = self._existing(users, user_id, for_update=True)
        if changes.get("password") is not None:
            self._ensure_current_password(user, changes.get("current_password"))
        self._ensure_free(users, username=changes.get("username"),
                          email=changes.get("email"), exclude_id=user.id)
        for field in _PROFILE_FIELDS:
            if field in changes:
                setattr(user, field, changes[field])
        if changes.get("password") is not None:
            user.password_hash = self._passwords.hash(changes["password"])
            user.token_version += 1
        user.version += 1
        _saving(users.save)
        users.publish(events.USER_CHANGED, user)
        return self._account(user, self._issue(user))

    def logout(self, users: UserRepository, user_id: int) -> None:
        """Revoke every token of the user (this one included), in every service."""
        user = self._existing(users, user_id, for_update=True)
        user.token_version += 1
        user.version += 1
        users.save()
        users.publish(events.USER_CHANGED, user)

    def _ensure_current_password(self, user: User, current: str | None) -> None:
        if not current:
            raise Unprocessable.on_field("currentPassword", messages.CURRENT_PASSWORD_REQUIRED)
        if not self._passwords.verify(user.password_hash, current):
            raise Unprocessable.on_field("currentPassword", messages.CURRENT_PASSWORD_WRONG)

    def snapshot(self, users: UserRepository, after_id: int, limit: int) -> tuple[list, str | None]:
        """A page of every user's public state, and the cursor of the next page."""
        rows = users.snapshot(after_id, limit)
        return rows, (str(rows[-1]["id"]) if len(rows) == limit else None)

    @staticmethod
    def _ensure_free(users: UserRepository, username: str | None, email: str | None,
                     exclude_id: int | None = None) -> None:
        taken = users.taken_fields(username, email, exclude_id=exclude_id)
        if taken:
            fields = {field: [messages.ALREADY_TAKEN] for field in sorted(taken)}
            sentences = [f"{field} {messages.ALREADY_TAKEN}" for field in sorted(taken)]
            raise Unprocessable(sentences, fields)

    @staticmethod
    def _existing(users: UserRepository, user_id: int, for_update: bool = False) -> User:
        user = users.get(user_id, for_update)
        if user is None:
            raise Unauthorized(messages.USER_GONE)
        return user

    def _issue(self, user: User) -> str:
        return self._codec.issue(user.id, user.username, user.token_version)

    @staticmethod
    def _account(user, token: str) -> Account:
        """From a User or a row of the users table (the same attribute names)."""
        return Account(email=user.email, token=token, username=user.username,
                       bio=user.bio, image=user.image)


def _saving(write) -> None:
    """Run a write; a uniqueness violation becomes a 422 on its field."""
    try:
        write()
    except AlreadyTaken as ex:
        raise Unprocessable.on_field(ex.field, messages.ALREADY_TAKEN) from ex

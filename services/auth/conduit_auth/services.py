"""The rules of the auth context: plain values in, domain exceptions out.

Collaborators (password hasher, token codec) come through the constructor; the
repository comes with each call, bound to the request's session.
"""
from dataclasses import dataclass

from conduit_auth import events, messages
from conduit_auth.models import User
from conduit_auth.passwords import Passwords
from conduit_auth.repository import AlreadyTaken, UserRepository
from conduit_common.errors import Unauthorized, Unprocessable
from conduit_common.tokens import TokenCodec

_PROFILE_FIELDS = ("username", "email", "bio", "image")


@dataclass(frozen=True)
class Account:
    """The signed-in user as the RealWorld API shows it (never the password)."""

    email: str
    token: str
    username: str
    bio: str | None
    image: str | None


class AccountService:
    def __init__(self, passwords: Passwords, codec: TokenCodec):
        self._passwords = passwords
        self._codec = codec

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

    def login(self, users: UserRepository, email: str, password: str) -> Account:
        user = users.by_email(email)
        if user is None:
            self._passwords.burn(password)
            raise Unauthorized(messages.LOGIN_FAILED)
        if not self._passwords.verify(user.password_hash, password):
            raise Unauthorized(messages.LOGIN_FAILED)
        if self._passwords.needs_rehash(user.password_hash):
            user.password_hash = self._passwords.hash(password)
            users.save()
        return self._account(user, self._issue(user))

    def current(self, users: UserRepository, user_id: int, token: str) -> Account:
        return self._account(self._existing(users, user_id), token)

    def update(self, users: UserRepository, user_id: int, changes: dict) -> Account:
        """Apply the given fields (absent ones stay); answer with a fresh token."""
        user = self._existing(users, user_id, for_update=True)
        self._ensure_free(users, username=changes.get("username"),
                          email=changes.get("email"), exclude_id=user.id)
        for field in _PROFILE_FIELDS:
            if field in changes:
                setattr(user, field, changes[field])
        if changes.get("password") is not None:
            user.password_hash = self._passwords.hash(changes["password"])
        user.version += 1
        _saving(users.save)
        users.publish(events.USER_CHANGED, user)
        return self._account(user, self._issue(user))

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
        return self._codec.issue(user.id, user.username)

    @staticmethod
    def _account(user: User, token: str) -> Account:
        return Account(email=user.email, token=token, username=user.username,
                       bio=user.bio, image=user.image)


def _saving(write) -> None:
    """Run a write; a uniqueness violation becomes a 422 on its field."""
    try:
        write()
    except AlreadyTaken as ex:
        raise Unprocessable.on_field(ex.field, messages.ALREADY_TAKEN) from ex

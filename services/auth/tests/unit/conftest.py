"""Fakes for the unit tier: no database, no network."""
import itertools

import pytest

from conduit_auth import events
from conduit_auth.models import User
from conduit_auth.passwords import Passwords
from conduit_auth.repository import AlreadyTaken
from conduit_auth.services import AccountService


class FakeUserRepository:
    """In-memory UserRepository with the same case-insensitive uniqueness.

    `stale_checks` makes taken_fields() answer "free" regardless, as when another
    request registers the same name between the check and the insert.
    """

    def __init__(self):
        self.users: dict[int, User] = {}
        self.saves = 0
        self.rows_read = 0
        self.stale_checks = False
        self.published: list[tuple[str, dict]] = []
        self.failures: dict = {}
        self._ids = itertools.count(1)

    def get(self, user_id, for_update=False):
        return self.users.get(user_id)

    def row(self, user_id):
        self.rows_read += 1
        return self.users.get(user_id)

    def by_email(self, email):
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def taken_fields(self, username, email, exclude_id=None):
        if self.stale_checks:
            return set()
        return self._conflicts(username, email, exclude_id)

    def login_failures(self, user_id, client):
        return self.failures.get((user_id, client), (0, None))

    def record_login_failure(self, user_id, client, at):
        count = self.failures.get((user_id, client), (0, None))[0]
        self.failures[(user_id, client)] = (count + 1, at)

    def clear_login_failures(self, user_id, client):
        self.failures.pop((user_id, client), None)

    def publish(self, event_type, user):
        self.published.append((event_type, events.user_state(user)))

    def add(self, user):
        self._raise_if_taken(user.username, user.email, None)
        user.id = next(self._ids)
        self.users[user.id] = user
        self.saves += 1
        return user

    def save(self):
        for user in self.users.values():
            self._raise_if_taken(user.username, user.email, user.id)
        self.saves += 1

    def _conflicts(self, username, email, exclude_id):
        taken = set()
        for user in self.users.values():
            if user.id == exclude_id:
                continue
            if username is not None and user.username.lower() == username.lower():
                taken.add("username")
            if email is not None and user.email.lower() == email.lower():
                taken.add("email")
        return taken

    def _raise_if_taken(self, username, email, exclude_id):
        taken = self._conflicts(username, email, exclude_id)
        if taken:
            raise AlreadyTaken(sorted(taken)[-1])


class CountingPasswords(Passwords):
    """Real argon2id at the cheapest cost, counting the work it does."""

    def __init__(self, time_cost=1, memory_cost=1024):
        super().__init__(time_cost=time_cost, memory_cost=memory_cost)
        self.verifications = 0

    def verify(self, password_hash, password):
        self.verifications += 1
        return super().verify(password_hash, password)


@pytest.fixture
def users():
    return FakeUserRepository()


@pytest.fixture
def unit_passwords():
    return CountingPasswords()


@pytest.fixture
def service(unit_passwords, codec):
    return AccountService(unit_passwords, codec)


@pytest.fixture
def make_service(codec):
    """An AccountService over argon2 parameters of the test's choosing."""
    def make_service(time_cost=1, memory_cost=1024):
        return AccountService(CountingPasswords(time_cost, memory_cost), codec)
    return make_service

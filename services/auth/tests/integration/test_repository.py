"""UserRepository on the real schema: case-insensitive lookups and uniqueness."""
import threading
import time

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from conduit_auth.models import User
from conduit_auth.repository import AlreadyTaken, UserRepository
from conduit_common.testing.counting import counting_statements


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def stored(engine):
    """Commit users (username, email) and return them."""
    def stored(*pairs) -> list[User]:
        with Session(engine, expire_on_commit=False) as session:
            users = [User(username=u, email=e, password_hash="x") for u, e in pairs]
            session.add_all(users)
            session.commit()
        return users
    return stored


def test_by_email_ignores_case(stored, session):
    stored(("jake", "Jake@Example.com"))

    user = UserRepository(session).by_email("jAKE@example.COM")

    assert user.username == "jake"
    assert user.email == "Jake@Example.com"  # kept as given


def test_snapshot_pages_public_state_by_id_in_one_query(stored, session, engine):
    jake, anne, bob = stored(("jake", "j@x.io"), ("Anne", "a@x.io"), ("bob", "b@x.io"))

    with counting_statements(engine) as log:
        page = UserRepository(session).snapshot(after_id=jake.id, limit=1)

    assert page == [{"id": anne.id, "username": "Anne", "bio": None, "image": None,
                     "version": 1, "token_version": 0}]
    assert log.count == 1


def test_taken_fields_sees_other_users_but_not_oneself(stored, session):
    jake, anne = stored(("jake", "j@x.io"), ("anne", "a@x.io"))
    users = UserRepository(session)

    assert users.taken_fields("JAKE", "A@X.IO") == {"username", "email"}
    assert users.taken_fields("JAKE", "j@x.io", exclude_id=jake.id) == set()
    assert users.taken_fields(None, None) == set()


@pytest.mark.parametrize("username, email, field", [
    ("JAKE", "other@x.io", "username"),
    ("other", "J@X.IO", "email"),
])
def test_the_unique_indexes_reject_case_variants(stored, session, username, email, field):
    stored(("jake", "j@x.io"))

    with pytest.raises(AlreadyTaken) as caught:
        UserRepository(session).add(User(username=username, email=email, password_hash="x"))

    assert caught.value.field == field


def test_the_session_is_rolled_back_and_usable_after_a_violation(stored, session, engine):
    stored(("jake", "j@x.io"))
    users = UserRepository(session)
    with pytest.raises(AlreadyTaken):
        users.add(User(username="Jake", email="new@x.io", password_hash="x"))

    users.add(User(username="anne", email="a@x.io", password_hash="x"))
    session.commit()

    with Session(engine) as check:
        assert UserRepository(check).by_email("a@x.io") is not None


def wait_until_a_backend_waits_for_a_lock(engine, timeout: float = 10.0) -> None:
    query = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity "
                            "WHERE wait_event_type = 'Lock' AND datname = current_database()")
    deadline = time.monotonic() + timeout
    with engine.connect() as connection:
        while connection.execute(query).scalar() == 0:
            assert time.monotonic() < deadline, "the second insert never blocked"
            time.sleep(0.02)


def test_of_two_racing_registrations_the_second_gets_already_taken(engine):
    first, second = Session(engine), Session(engine)
    outcome = {}

    def register_second():
        try:
            UserRepository(second).add(User(username="JAKE", email="o@x.io", password_hash="x"))
            second.commit()
            outcome["second"] = "stored"
        except AlreadyTaken as ex:
            outcome["second"] = ex.field
        finally:
            second.close()

    UserRepository(first).add(User(username="jake", email="j@x.io", password_hash="x"))
    racer = threading.Thread(target=register_second)
    racer.start()
    try:
        wait_until_a_backend_waits_for_a_lock(engine)  # blocked on the index entry of `first`
    finally:
        # Even when the wait fails: an open `first` would block the racer, and the next
        # test's TRUNCATE behind it, for ever.
        first.commit()
        first.close()
        racer.join(timeout=10)

    assert outcome == {"second": "username"}

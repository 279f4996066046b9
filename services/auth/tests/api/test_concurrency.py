"""Concurrent registrations of one name: the database decides, nobody gets a 500."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from falcon import testing

from conduit_auth.app import create_app
from conduit_auth.passwords import Passwords
from conduit_common.testing.counting import counting_statements

RACERS = 6


@pytest.fixture
def slow_hash_client(engine, settings, codec):
    """Hashing takes long enough that every racer passes the pre-check first, so
    the losers are turned away by the unique index, not by the check."""
    return testing.TestClient(create_app(settings, engine=engine, codec=codec,
                                         passwords=Passwords(time_cost=3, memory_cost=16384)))


def race(client, users: list[dict]) -> list:
    start = threading.Barrier(len(users))

    def register(user):
        start.wait()
        return client.simulate_post("/api/users", json={"user": user})

    with ThreadPoolExecutor(len(users)) as pool:
        return list(pool.map(register, users))


def inserts(log) -> int:
    return sum(1 for statement in log.statements if statement.startswith("INSERT"))


def test_racing_registrations_of_one_username_give_one_201_and_422s(slow_hash_client, engine):
    users = [{"username": "racer" if n % 2 else "RACER", "email": f"r{n}@x.io",
              "password": "password"} for n in range(RACERS)]

    with counting_statements(engine) as log:
        results = race(slow_hash_client, users)

    assert sorted(r.status_code for r in results) == [201] + [422] * (RACERS - 1)
    for result in results:
        if result.status_code == 422:
            assert result.json["errors"]["username"] == ["has already been taken"]
    assert inserts(log) > 1  # at least one loser was stopped by the database


def test_racing_registrations_of_one_email_give_one_201_and_422s(slow_hash_client):
    users = [{"username": f"racer{n}", "email": "Race@X.io" if n % 2 else "race@x.io",
              "password": "password"} for n in range(RACERS)]

    results = race(slow_hash_client, users)

    assert sorted(r.status_code for r in results) == [201] + [422] * (RACERS - 1)
    assert all(r.json["errors"]["email"] == ["has already been taken"]
               for r in results if r.status_code == 422)

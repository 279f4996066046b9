"""POST /api/users/login."""
import pytest
from falcon import testing
from sqlalchemy import select
from sqlalchemy.orm import Session

from conduit_auth.app import create_app
from conduit_auth.models import User
from conduit_auth.passwords import Passwords


def login(client, email, password):
    return client.simulate_post("/api/users/login",
                                json={"user": {"email": email, "password": password}})


def test_login_answers_200_with_the_user_and_a_token(client, register, codec):
    registered = register("jake", "jake@jake.jake", "jakejakejake")

    result = login(client, "jake@jake.jake", "jakejakejake")

    assert result.status_code == 200
    user = result.json["user"]
    assert (user["username"], user["email"], user["bio"], user["image"]) == (
        "jake", "jake@jake.jake", None, None)
    assert codec.verify(user["token"]).user_id == codec.verify(registered["token"]).user_id


def test_login_ignores_the_case_of_the_email(client, register):
    register("jake", "Jake@Jake.jake")

    assert login(client, "JAKE@jake.JAKE", "jakejakejake").status_code == 200


@pytest.mark.parametrize("email, password", [
    ("jake@jake.jake", "wrong-password"),
    ("nobody@jake.jake", "jakejakejake"),
    ("jake@jake.jake", "JAKEJAKEJAKE"),
])
def test_wrong_email_or_password_is_the_same_401(client, register, email, password):
    register("jake", "jake@jake.jake", "jakejakejake")

    result = login(client, email, password)

    assert result.status_code == 401
    assert result.json == {"errors": {"body": ["email or password is invalid"]}}


@pytest.mark.parametrize("user, field", [
    ({"password": "jakejakejake"}, "email"),
    ({"email": "jake@jake.jake"}, "password"),
    ({"email": "jake@jake.jake", "password": ""}, "password"),
    ({"email": None, "password": "jakejakejake"}, "email"),
])
def test_missing_credentials_are_a_422_on_the_field(client, user, field):
    result = client.simulate_post("/api/users/login", json={"user": user})

    assert result.status_code == 422
    assert field in result.json["errors"]


def test_login_without_the_envelope_is_a_422(client):
    result = client.simulate_post("/api/users/login",
                                  json={"email": "jake@jake.jake", "password": "jakejakejake"})

    assert result.status_code == 422
    assert "user" in result.json["errors"]


def test_login_rehashes_when_the_argon2_cost_changed(register, engine, settings, codec):
    register("jake", "jake@jake.jake", "jakejakejake")  # hashed with time_cost=1
    stronger = testing.TestClient(create_app(
        settings, engine=engine, codec=codec, passwords=Passwords(time_cost=2, memory_cost=1024)))

    assert login(stronger, "jake@jake.jake", "jakejakejake").status_code == 200

    with Session(engine) as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$") and ",t=2," in stored
    assert login(stronger, "jake@jake.jake", "jakejakejake").status_code == 200

"""POST /api/users: registration."""
import pytest


def post_user(client, **user):
    return client.simulate_post("/api/users", json={"user": user})


def test_registration_answers_201_with_the_user_and_a_token(client, codec):
    result = post_user(client, username="jake", email="jake@jake.jake", password="jakejakejake")

    assert result.status_code == 201
    user = result.json["user"]
    assert set(user) == {"email", "token", "username", "bio", "image"}
    assert (user["email"], user["username"], user["bio"], user["image"]) == (
        "jake@jake.jake", "jake", None, None)
    assert codec.verify(user["token"]).username == "jake"


def test_the_password_and_its_hash_are_never_in_the_response(client):
    result = post_user(client, username="jake", email="jake@jake.jake", password="jakejakejake")

    assert "jakejakejake" not in result.text
    assert "argon2" not in result.text
    assert "password" not in result.json["user"]


def test_the_postman_suite_celebrity_registers(client):
    result = post_user(client, username="celeb_u1764144000",
                       email="celeb_u1764144000@mail.com", password="password")

    assert result.status_code == 201


@pytest.mark.parametrize("user, field", [
    ({"email": "jake@jake.jake", "password": "jakejakejake"}, "username"),
    ({"username": "jake", "password": "jakejakejake"}, "email"),
    ({"username": "jake", "email": "jake@jake.jake"}, "password"),
    ({"username": "ja ke", "email": "jake@jake.jake", "password": "jakejakejake"}, "username"),
    ({"username": "j" * 41, "email": "jake@jake.jake", "password": "jakejakejake"}, "username"),
    ({"username": "jake", "email": "jake.jake", "password": "jakejakejake"}, "email"),
    ({"username": "jake", "email": "jake@jake.jake", "password": "short"}, "password"),
    ({"username": "jake", "email": "jake@jake.jake", "password": "p" * 129}, "password"),
    ({"username": 7, "email": "jake@jake.jake", "password": "jakejakejake"}, "username"),
])
def test_each_invalid_field_is_a_422_keyed_by_that_field(client, user, field):
    result = post_user(client, **user)

    assert result.status_code == 422
    errors = result.json["errors"]
    assert set(errors) == {field, "body"}
    assert errors["body"] == [f"{field} {errors[field][0]}"]


def test_every_invalid_field_is_reported_at_once(client):
    result = post_user(client, username="", email="nope", password="x")

    assert result.status_code == 422
    assert {"username", "email", "password", "body"} == set(result.json["errors"])


@pytest.mark.parametrize("body", [{}, {"username": "jake"}, {"user": None}, {"user": []}])
def test_a_missing_user_envelope_is_a_422_on_user(client, body):
    result = client.simulate_post("/api/users", json=body)

    assert result.status_code == 422
    assert result.json["errors"]["user"] == ["is required, as a JSON object"]


def test_an_empty_body_is_a_422_on_user(client):
    result = client.simulate_post("/api/users")

    assert result.status_code == 422
    assert "user" in result.json["errors"]


def test_unknown_fields_are_ignored(client):
    result = post_user(client, username="jake", email="jake@jake.jake", password="jakejakejake",
                       bio="sneaky", admin=True)

    assert result.status_code == 201
    assert result.json["user"]["bio"] is None


@pytest.mark.parametrize("username, email, field", [
    ("JAKE", "other@jake.jake", "username"),
    ("other", "JAKE@Jake.Jake", "email"),
])
def test_a_username_or_email_taken_in_any_case_is_a_422(client, register, username, email,
                                                        field):
    register("jake", "jake@jake.jake")

    result = post_user(client, username=username, email=email, password="jakejakejake")

    assert result.status_code == 422
    assert result.json["errors"] == {field: ["has already been taken"],
                                     "body": [f"{field} has already been taken"]}


def test_the_email_is_kept_as_given(client):
    result = post_user(client, username="jake", email="Jake@Jake.jake", password="jakejakejake")

    assert result.json["user"]["email"] == "Jake@Jake.jake"

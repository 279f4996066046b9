"""GET and PUT /api/user."""
import pytest
from sqlalchemy import text

from conduit_common.testing.counting import counting_statements


def put_user(client, token, **changes):
    return client.simulate_put("/api/user", json={"user": changes},
                               headers={"Authorization": f"Token {token}"})


def test_get_user_answers_the_user_and_the_token_presented(client, register, auth_header):
    jake = register("jake", "jake@jake.jake")

    result = client.simulate_get("/api/user", headers=auth_header(jake["token"]))

    assert result.status_code == 200
    assert result.json == {"user": jake}


def test_get_user_reads_the_user_once_for_the_token_check_and_the_answer(
        client, register, auth_header, engine):
    jake = register("jake")

    with counting_statements(engine) as log:
        result = client.simulate_get("/api/user", headers=auth_header(jake["token"]))

    assert result.status_code == 200
    assert log.count == 1, log


def test_bearer_is_accepted_as_well_as_token(client, register, auth_header):
    jake = register("jake")

    result = client.simulate_get("/api/user", headers=auth_header(jake["token"], "Bearer"))

    assert result.status_code == 200


def test_get_user_without_a_token_is_a_401(client):
    result = client.simulate_get("/api/user")

    assert result.status_code == 401
    assert result.json["errors"]["body"] == ["missing authorization token"]


def test_a_token_whose_user_is_gone_is_a_401(client, register, auth_header, engine):
    jake = register("jake")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM auth.users"))

    result = client.simulate_get("/api/user", headers=auth_header(jake["token"]))

    assert result.status_code == 401
    assert result.json["errors"]["body"] == ["the user of this token no longer exists"]


def test_put_user_updates_every_field_and_answers_a_fresh_token(client, register, codec):
    jake = register("jake", "jake@jake.jake")

    result = put_user(client, jake["token"], username="jacob", email="jacob@jake.jake",
                      bio="I like to skateboard", image="https://i.stack.imgur.com/xHWG8.jpg")

    assert result.status_code == 200
    user = result.json["user"]
    assert (user["username"], user["email"], user["bio"], user["image"]) == (
        "jacob", "jacob@jake.jake", "I like to skateboard", "https://i.stack.imgur.com/xHWG8.jpg")
    assert codec.verify(user["token"]).username == "jacob"


def test_the_update_is_stored(client, register, auth_header):
    jake = register("jake")
    put_user(client, jake["token"], bio="stored bio")

    result = client.simulate_get("/api/user", headers=auth_header(jake["token"]))

    assert result.json["user"]["bio"] == "stored bio"


def test_put_user_with_an_empty_user_changes_nothing(client, register):
    jake = register("jake", "jake@jake.jake")

    result = put_user(client, jake["token"])

    assert result.status_code == 200
    assert {k: v for k, v in result.json["user"].items() if k != "token"} == {
        "username": "jake", "email": "jake@jake.jake", "bio": None, "image": None}


def test_put_user_can_clear_bio_and_image(client, register):
    jake = register("jake")
    put_user(client, jake["token"], bio="bio", image="https://example.com/a.png")

    result = put_user(client, jake["token"], bio="", image=None)

    assert (result.json["user"]["bio"], result.json["user"]["image"]) == (None, None)


def test_a_token_issued_before_a_username_change_keeps_working(
        client, register, auth_header):
    jake = register("jake")
    put_user(client, jake["token"], username="jacob")

    result = client.simulate_get("/api/user", headers=auth_header(jake["token"]))

    assert result.status_code == 200
    assert result.json["user"]["username"] == "jacob"


def test_after_a_password_change_only_the_new_password_logs_in(client, register):
    jake = register("jake", "jake@jake.jake", "old-password")
    assert put_user(client, jake["token"], password="new-password",
                    currentPassword="old-password").status_code == 200

    def login(password):
        return client.simulate_post("/api/users/login", json={"user": {
            "email": "jake@jake.jake", "password": password}}).status_code

    assert login("new-password") == 200
    assert login("old-password") == 401


@pytest.mark.parametrize("changes, field", [
    ({"username": "ANNE"}, "username"),
    ({"email": "Anne@Anne.anne"}, "email"),
])
def test_taking_another_users_name_or_email_is_a_422(client, register, changes, field):
    jake = register("jake")
    register("anne", "anne@anne.anne")

    result = put_user(client, jake["token"], **changes)

    assert result.status_code == 422
    assert result.json["errors"][field] == ["has already been taken"]


def test_changing_the_case_of_ones_own_username_is_allowed(client, register):
    jake = register("jake", "jake@jake.jake")

    result = put_user(client, jake["token"], username="Jake", email="JAKE@jake.jake")

    assert result.status_code == 200
    assert result.json["user"]["username"] == "Jake"


@pytest.mark.parametrize("changes, field", [
    ({"username": None}, "username"),
    ({"username": "bad name"}, "username"),
    ({"email": "not-an-email"}, "email"),
    ({"password": "short"}, "password"),
    ({"bio": "b" * 2001}, "bio"),
    ({"image": "javascript:alert(1)"}, "image"),
    ({"image": "https://example.com/" + "i" * 2030}, "image"),
])
def test_each_invalid_change_is_a_422_keyed_by_field(client, register, changes, field):
    jake = register("jake")

    result = put_user(client, jake["token"], **changes)

    assert result.status_code == 422
    assert set(result.json["errors"]) == {field, "body"}


def test_put_user_without_the_envelope_is_a_422(client, register, auth_header):
    jake = register("jake")

    result = client.simulate_put("/api/user", json={"bio": "x"},
                                 headers=auth_header(jake["token"]))

    assert result.status_code == 422
    assert "user" in result.json["errors"]


def test_put_user_without_a_token_is_a_401(client):
    result = client.simulate_put("/api/user", json={"user": {"bio": "x"}})

    assert result.status_code == 401

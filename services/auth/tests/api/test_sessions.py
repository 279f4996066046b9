"""Revocable sessions: a password change or a logout ends every older token, and failed
logins back off per account and client address (never a lock-out)."""
import pytest
import sqlalchemy

from conduit_auth.services import FREE_FAILURES


def put_user(client, token, **changes):
    return client.simulate_put("/api/user", json={"user": changes},
                               headers={"Authorization": f"Token {token}"})


def get_user(client, token):
    return client.simulate_get("/api/user", headers={"Authorization": f"Token {token}"})


def login(client, password, email="jake@jake.jake", client_address="203.0.113.7"):
    return client.simulate_post("/api/users/login", headers={"X-Forwarded-For": client_address},
                                json={"user": {"email": email, "password": password}})


@pytest.fixture
def jake(register):
    return register("jake", "jake@jake.jake", "old-password")


def test_changing_the_password_needs_the_current_one(client, jake):
    missing = put_user(client, jake["token"], password="new-password")
    wrong = put_user(client, jake["token"], password="new-password", currentPassword="guess")

    assert missing.status_code == 422
    assert missing.json["errors"]["currentPassword"] == ["is required to change the password"]
    assert wrong.status_code == 422
    assert wrong.json["errors"]["currentPassword"] == ["is not the current password"]
    assert login(client, "old-password").status_code == 200


def test_a_password_change_revokes_older_tokens_and_answers_a_working_one(client, jake):
    changed = put_user(client, jake["token"], password="new-password",
                       currentPassword="old-password")

    assert changed.status_code == 200
    assert get_user(client, jake["token"]).status_code == 401
    assert get_user(client, changed.json["user"]["token"]).status_code == 200


def test_other_profile_changes_keep_tokens_valid(client, jake):
    put_user(client, jake["token"], bio="still me")

    assert get_user(client, jake["token"]).status_code == 200


def test_logout_revokes_every_token_of_the_user(client, jake):
    other_session = login(client, "old-password").json["user"]["token"]

    result = client.simulate_post("/api/user/logout",
                                  headers={"Authorization": f"Token {jake['token']}"})

    assert result.status_code == 204
    assert get_user(client, jake["token"]).status_code == 401
    assert get_user(client, other_session).status_code == 401
    assert get_user(client, login(client, "old-password").json["user"]["token"]).status_code == 200


def test_logout_publishes_the_new_token_version(client, jake, internal):
    client.simulate_post("/api/user/logout", headers={"Authorization": f"Token {jake['token']}"})

    events = client.simulate_get("/internal/events", headers=internal,
                                 params={"consumer": "profiles", "wait": 2}).json["events"]

    assert events[-1]["type"] == "UserChanged"
    assert events[-1]["data"]["token_version"] == 1


def test_failed_logins_back_off_per_account_and_address_with_429(client, jake, engine):
    statuses = [login(client, "wrong-password").status_code for _ in range(FREE_FAILURES)]
    limited = login(client, "old-password")      # even the right password waits now
    elsewhere = login(client, "old-password", client_address="198.51.100.1")

    assert statuses == [401] * FREE_FAILURES
    assert limited.status_code == 429
    assert limited.json["errors"]["body"][0].startswith("too many failed logins")
    assert int(limited.headers["Retry-After"]) >= 1
    assert elsewhere.status_code == 200          # no lock-out of the account's owner

    with engine.begin() as connection:           # the wait passes
        connection.execute(sqlalchemy.text(
            "UPDATE auth.login_failures SET last_failed_at = last_failed_at - interval '1 hour'"))
    assert login(client, "old-password").status_code == 200
    assert login(client, "wrong-password").status_code == 401   # the count started over


def test_answers_with_a_token_are_never_cached(client, jake):
    for result in (login(client, "old-password"), get_user(client, jake["token"])):
        assert result.headers["Cache-Control"] == "no-store"

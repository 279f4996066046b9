"""The error shape on the edges: bad JSON, big bodies, crashes, unknown routes."""
import dataclasses

import pytest
from falcon import testing

from conduit_auth.app import create_app


class ExplodingPasswords:
    """A hasher that fails the way a bug would."""

    def hash(self, password):
        raise RuntimeError("boom: internal detail")


def test_malformed_json_is_a_400_in_the_error_shape(client):
    result = client.simulate_post("/api/users", body='{"user": {"username": ',
                                  headers={"Content-Type": "application/json"})

    assert result.status_code == 400
    assert set(result.json) == {"errors"}
    assert result.json["errors"]["body"]


def test_a_body_over_max_body_bytes_is_a_413(engine, settings, passwords):
    small = dataclasses.replace(settings, max_body_bytes=512)
    client = testing.TestClient(create_app(small, engine=engine, passwords=passwords))

    result = client.simulate_post("/api/users", json={"user": {
        "username": "jake", "email": "jake@jake.jake", "password": "p" * 600}})

    assert result.status_code == 413
    assert result.json["errors"]["body"] == ["request body is larger than 512 bytes"]


def test_a_body_under_max_body_bytes_passes(engine, settings, passwords):
    small = dataclasses.replace(settings, max_body_bytes=512)
    client = testing.TestClient(create_app(small, engine=engine, passwords=passwords))

    result = client.simulate_post("/api/users", json={"user": {
        "username": "jake", "email": "jake@jake.jake", "password": "jakejakejake"}})

    assert result.status_code == 201


def test_an_unexpected_exception_is_a_500_with_a_generic_message(engine, settings, capfd):
    client = testing.TestClient(create_app(settings, engine=engine,
                                           passwords=ExplodingPasswords()))

    result = client.simulate_post("/api/users", json={"user": {
        "username": "jake", "email": "jake@jake.jake", "password": "jakejakejake"}})

    assert result.status_code == 500
    assert result.json == {"errors": {"body": ["internal server error"]}}
    assert "boom" not in result.text
    assert "boom: internal detail" in capfd.readouterr().err  # the log has the traceback


def test_passwords_are_never_logged(client, register, capfd):
    register("jake", "jake@jake.jake", "a-secret-password")
    client.simulate_post("/api/users/login", json={"user": {
        "email": "jake@jake.jake", "password": "a-wrong-secret"}})
    client.simulate_post("/api/users", json={"user": {
        "username": "bad name", "email": "x@y.z", "password": "another-secret"}})

    logs = capfd.readouterr().err
    assert "POST /api/users/login 401" in logs
    for secret in ("a-secret-password", "a-wrong-secret", "another-secret", "$argon2"):
        assert secret not in logs


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/users", 405),
    ("DELETE", "/api/user", 405),
    ("GET", "/api/nothing-here", 404),
])
def test_unknown_routes_and_methods_answer_in_the_error_shape(client, method, path, status):
    result = client.simulate_request(method, path)

    assert result.status_code == status
    assert set(result.json) == {"errors"}


def test_health_and_readiness_answer(client):
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    assert client.simulate_get("/readyz").json == {"status": "ready"}


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_a_nul_character_in_a_registration_is_422_on_that_field(client, field):
    # Postgres cannot store U+0000; it was a 500 before the edge refused it.
    user = {"username": "jake", "email": "jake@jake.jake", "password": "jakejakejake"}
    user[field] = user[field][:2] + "\x00" + user[field][2:]
    result = client.simulate_post("/api/users", json={"user": user})
    assert result.status_code == 422
    assert result.json["errors"][field] == ["must not contain NUL characters"]


def test_a_nul_character_in_an_internal_username_lookup_is_400(client, internal):
    result = client.simulate_get("/internal/users", query_string="username=ja%00ke",
                                 headers=internal)
    assert result.status_code == 400

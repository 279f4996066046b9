"""Bad tokens on an authenticated route: always a 401 in the error shape."""
import dataclasses
import time

import jwt
import pytest
from falcon import testing

from conduit_auth.app import create_app
from conduit_common.tokens import InvalidToken, TokenCodec


def get_user(client, authorization):
    return client.simulate_get("/api/user", headers={"Authorization": authorization})


def assert_401(result):
    assert result.status_code == 401
    assert set(result.json) == {"errors"}
    assert isinstance(result.json["errors"]["body"][0], str)
    assert result.headers["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_a_401(client, register, secret):
    jake = register("jake")
    user_id = TokenCodec(secret).verify(jake["token"]).user_id
    an_hour_ago = TokenCodec(secret, ttl_seconds=60, clock=lambda: time.time() - 3600)

    assert_401(get_user(client, f"Token {an_hour_ago.issue(user_id, 'jake')}"))


def test_a_tampered_signature_is_a_401(client, register):
    token = register("jake")["token"]
    header, payload, signature = token.split(".")
    forged = "A" if signature[0] != "A" else "B"

    assert_401(get_user(client, f"Token {header}.{payload}.{forged}{signature[1:]}"))


def test_a_tampered_payload_is_a_401(client, register, secret):
    token = register("jake")["token"]
    other = TokenCodec(secret).issue(999, "someone-else")
    header, _, signature = token.split(".")

    assert_401(get_user(client, f"Token {header}.{other.split('.')[1]}.{signature}"))


def test_a_token_signed_with_another_secret_is_a_401(client, register, secret):
    register("jake")
    foreign = TokenCodec("another-secret-of-the-same-length!").issue(1, "jake")

    assert_401(get_user(client, f"Token {foreign}"))


def test_an_unsigned_alg_none_token_is_a_401(client, register):
    register("jake")
    now = int(time.time())
    unsigned = jwt.encode({"sub": "1", "username": "jake", "iat": now, "exp": now + 600},
                          None, algorithm="none")

    assert_401(get_user(client, f"Token {unsigned}"))


@pytest.mark.parametrize("authorization", ["Token garbage", "Token a.b.c", "Token ",
                                           "Token", "Basic amFrZTpqYWtl", "jwt-without-scheme"])
def test_garbage_or_a_wrong_scheme_is_a_401(client, register, authorization):
    register("jake")

    assert_401(get_user(client, authorization))


def test_a_wrong_scheme_with_a_valid_token_is_still_a_401(client, register):
    token = register("jake")["token"]

    assert_401(get_user(client, f"Basic {token}"))


def test_secret_rotation_keeps_tokens_of_the_previous_key_valid(
        engine, settings, passwords, register):
    """With the old key among the fallbacks, its tokens still work; new ones are
    signed with the new key only."""
    old_token = register("jake")["token"]          # signed with settings.secret
    new_secret = "rotated-secret-0123456789abcdef-0123456789"
    rotated = dataclasses.replace(settings, secret=new_secret,
                                  secret_fallbacks=(settings.secret,))
    client = testing.TestClient(create_app(rotated, engine=engine, passwords=passwords))

    assert get_user(client, f"Token {old_token}").status_code == 200
    updated = client.simulate_put("/api/user", json={"user": {"bio": "rotated"}},
                                  headers={"Authorization": f"Token {old_token}"})
    assert updated.status_code == 200
    fresh = updated.json["user"]["token"]
    assert TokenCodec(new_secret).verify(fresh).username == "jake"
    with pytest.raises(InvalidToken):
        TokenCodec(settings.secret).verify(fresh)

    without_fallback = dataclasses.replace(rotated, secret_fallbacks=())
    client = testing.TestClient(create_app(without_fallback, engine=engine, passwords=passwords))
    assert_401(get_user(client, f"Token {old_token}"))

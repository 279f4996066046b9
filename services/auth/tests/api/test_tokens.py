"""Bad tokens on an authenticated route: always a 401 in the error shape."""
import dataclasses
import time

import jwt
import pytest
from falcon import testing

from conduit_auth.app import create_app
from conduit_common.keys import KeySet, SigningKey
from conduit_common.testing.keys import USER_TOKEN_KEY, USER_TOKEN_KEYS, verifying_codec
from conduit_common.tokens import InvalidToken, TokenCodec


def get_user(client, authorization):
    return client.simulate_get("/api/user", headers={"Authorization": authorization})


def assert_401(result):
    assert result.status_code == 401
    assert set(result.json) == {"errors"}
    assert isinstance(result.json["errors"]["body"][0], str)
    assert result.headers["WWW-Authenticate"] == "Token"


def test_an_expired_token_is_a_401(client, register, codec):
    jake = register("jake")
    user_id = codec.verify(jake["token"]).user_id
    an_hour_ago = TokenCodec(USER_TOKEN_KEYS, USER_TOKEN_KEY, ttl_seconds=60,
                             clock=lambda: time.time() - 3600)

    assert_401(get_user(client, f"Token {an_hour_ago.issue(user_id, 'jake')}"))


def test_a_tampered_signature_is_a_401(client, register):
    token = register("jake")["token"]
    header, payload, signature = token.split(".")
    forged = "A" if signature[0] != "A" else "B"

    assert_401(get_user(client, f"Token {header}.{payload}.{forged}{signature[1:]}"))


def test_a_tampered_payload_is_a_401(client, register, codec):
    token = register("jake")["token"]
    other = codec.issue(999, "someone-else")
    header, _, signature = token.split(".")

    assert_401(get_user(client, f"Token {header}.{other.split('.')[1]}.{signature}"))


def test_a_token_signed_by_an_unknown_key_is_a_401(client, register):
    register("jake")
    stranger = SigningKey.generate("auth")
    foreign = TokenCodec(KeySet.of(stranger), stranger).issue(1, "jake")

    assert_401(get_user(client, f"Token {foreign}"))


def test_a_token_under_a_known_kid_but_signed_by_another_key_is_a_401(client, register):
    register("jake")
    now = int(time.time())
    claims = {"sub": "1", "username": "jake", "iat": now, "exp": now + 600,
              "iss": "conduit-auth", "aud": "conduit"}
    forged = jwt.encode(claims, SigningKey.generate("auth").private_key, algorithm="EdDSA",
                        headers={"kid": USER_TOKEN_KEY.kid})

    assert_401(get_user(client, f"Token {forged}"))


@pytest.mark.parametrize("claim, value", [("iss", "someone"), ("aud", "auth")])
def test_a_token_for_another_issuer_or_audience_is_a_401(client, register, claim, value):
    register("jake")
    now = int(time.time())
    claims = {"sub": "1", "username": "jake", "iat": now, "exp": now + 600,
              "iss": "conduit-auth", "aud": "conduit", claim: value}
    token = jwt.encode(claims, USER_TOKEN_KEY.private_key, algorithm="EdDSA",
                       headers={"kid": USER_TOKEN_KEY.kid})

    assert_401(get_user(client, f"Token {token}"))


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


def test_key_rotation_keeps_tokens_of_the_previous_key_valid_while_it_is_published(
        engine, settings, passwords, register):
    """Rotation: the new key signs, the previous key stays in JWT_PUBLIC_KEYS, so its
    tokens still work; once it leaves the set they are 401."""
    old_token = register("jake")["token"]          # signed with the test key
    new_key = SigningKey.generate("auth")
    rotated = dataclasses.replace(settings, jwt_private_key=new_key,
                                  jwt_public_keys=KeySet.of(new_key, USER_TOKEN_KEY))
    client = testing.TestClient(create_app(rotated, engine=engine, passwords=passwords))

    assert get_user(client, f"Token {old_token}").status_code == 200
    updated = client.simulate_put("/api/user", json={"user": {"bio": "rotated"}},
                                  headers={"Authorization": f"Token {old_token}"})
    assert updated.status_code == 200
    fresh = updated.json["user"]["token"]
    assert jwt.get_unverified_header(fresh)["kid"] == new_key.kid
    assert TokenCodec(KeySet.of(new_key)).verify(fresh).username == "jake"
    with pytest.raises(InvalidToken):
        verifying_codec().verify(fresh)

    retired = dataclasses.replace(rotated, jwt_public_keys=KeySet.of(new_key))
    client = testing.TestClient(create_app(retired, engine=engine, passwords=passwords))
    assert_401(get_user(client, f"Token {old_token}"))
    assert get_user(client, f"Token {fresh}").status_code == 200

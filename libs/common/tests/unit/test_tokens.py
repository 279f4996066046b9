import jwt
import pytest

from conduit_common.tokens import InvalidToken, TokenCodec

SECRET = "unit-test-secret-" + "0123456789abcdef" * 4  # long enough for HS512 too


def test_issued_token_verifies_to_the_same_identity():
    codec = TokenCodec(SECRET)
    identity = codec.verify(codec.issue(42, "jake"))
    assert (identity.user_id, identity.username) == (42, "jake")


def test_token_carries_sub_username_iat_exp_and_version_from_the_clock():
    codec = TokenCodec(SECRET, ttl_seconds=100, clock=lambda: 1_000_000)
    claims = jwt.decode(codec.issue(7, "ann", token_version=3), SECRET, algorithms=["HS256"],
                        options={"verify_exp": False})
    assert claims == {"sub": "7", "username": "ann", "iat": 1_000_000, "exp": 1_000_100,
                      "ver": 3}


def test_a_token_without_a_version_is_version_zero():
    legacy = jwt.encode({"sub": "7", "username": "ann", "iat": 1, "exp": 2**40}, SECRET,
                        algorithm="HS256")
    assert TokenCodec(SECRET).verify(legacy).token_version == 0


def test_expired_token_is_rejected():
    codec = TokenCodec(SECRET, ttl_seconds=10, clock=lambda: 1_000_000)
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(codec.issue(1, "old"))


def test_token_signed_with_another_secret_is_rejected():
    forged = TokenCodec("another-secret-0123456789abcdefghijklmn").issue(1, "jake")
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(forged)


def test_unsigned_alg_none_token_is_rejected():
    unsigned = jwt.encode({"sub": "1", "username": "jake", "iat": 1, "exp": 9999999999},
                          None, algorithm="none")
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(unsigned)


def test_other_hmac_algorithm_is_rejected_even_with_the_right_key():
    token = jwt.encode({"sub": "1", "username": "jake", "iat": 1, "exp": 9999999999},
                       SECRET, algorithm="HS512")
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(token)


@pytest.mark.parametrize("missing", ["sub", "username", "iat", "exp"])
def test_token_without_a_required_claim_is_rejected(missing):
    claims = {"sub": "1", "username": "jake", "iat": 1, "exp": 9999999999}
    del claims[missing]
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_non_numeric_subject_is_rejected():
    token = jwt.encode({"sub": "abc", "username": "x", "iat": 1, "exp": 9999999999},
                       SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Token abc"])
def test_garbage_is_rejected(garbage):
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET).verify(garbage)


FALLBACK = "fallback-secret-" + "fedcba9876543210" * 2


def test_a_token_signed_with_a_fallback_secret_still_verifies():
    old_token = TokenCodec(FALLBACK).issue(3, "ann")
    identity = TokenCodec(SECRET, fallbacks=[FALLBACK]).verify(old_token)
    assert (identity.user_id, identity.username) == (3, "ann")


def test_new_tokens_are_signed_with_the_current_secret_not_a_fallback():
    token = TokenCodec(SECRET, fallbacks=[FALLBACK]).issue(3, "ann")
    assert TokenCodec(SECRET).verify(token).user_id == 3
    with pytest.raises(InvalidToken):
        TokenCodec(FALLBACK).verify(token)


def test_a_fallback_does_not_revive_an_expired_token():
    expired = TokenCodec(FALLBACK, ttl_seconds=10, clock=lambda: 1_000_000).issue(3, "ann")
    with pytest.raises(InvalidToken, match="expired"):
        TokenCodec(SECRET, fallbacks=[FALLBACK]).verify(expired)


def test_a_token_signed_with_neither_key_is_rejected():
    stranger = TokenCodec("stranger-secret-0123456789abcdefghij").issue(3, "ann")
    with pytest.raises(InvalidToken):
        TokenCodec(SECRET, fallbacks=[FALLBACK]).verify(stranger)

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from conduit_common.keys import KeySet, SigningKey
from conduit_common.tokens import (USER_TOKEN_AUDIENCE, USER_TOKEN_ISSUER, InvalidToken,
                                   SigningUnavailable, TokenCodec)

KEY = SigningKey.generate("auth")
KEYS = KeySet.of(KEY)
FAR = 2**40


def signer(key=KEY, keys=KEYS, **kwargs) -> TokenCodec:
    return TokenCodec(keys, key, **kwargs)


def verifier(keys=KEYS) -> TokenCodec:
    return TokenCodec(keys)


def claims(**overrides) -> dict:
    base = {"sub": "1", "username": "jake", "iat": 1, "exp": FAR, "ver": 0,
            "iss": USER_TOKEN_ISSUER, "aud": USER_TOKEN_AUDIENCE}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def signed(payload: dict, key: SigningKey = KEY, kid: str | None = None) -> str:
    return jwt.encode(payload, key.private_key, algorithm="EdDSA",
                      headers={"kid": kid if kid is not None else key.kid})


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def test_issued_token_verifies_to_the_same_identity_with_the_public_keys_only():
    identity = verifier().verify(signer().issue(42, "jake", token_version=3))
    assert (identity.user_id, identity.username, identity.token_version) == (42, "jake", 3)


def test_token_is_eddsa_with_the_kid_and_carries_iss_aud_and_the_clock():
    token = signer(ttl_seconds=100, clock=lambda: 1_000_000).issue(7, "ann", token_version=3)
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT", "kid": KEY.kid}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload == {"sub": "7", "username": "ann", "iat": 1_000_000, "exp": 1_000_100,
                       "ver": 3, "iss": "conduit-auth", "aud": "conduit"}


def test_a_codec_without_a_signing_key_cannot_issue():
    codec = verifier()
    assert not codec.can_issue
    with pytest.raises(SigningUnavailable):
        codec.issue(1, "jake")


def test_a_token_without_a_version_is_version_zero():
    assert verifier().verify(signed(claims(ver=None))).token_version == 0


def test_expired_token_is_rejected():
    token = signer(ttl_seconds=10, clock=lambda: time.time() - 60).issue(1, "old")
    with pytest.raises(InvalidToken, match="expired"):
        verifier().verify(token)


def test_token_signed_by_an_unknown_key_is_rejected():
    stranger = SigningKey.generate("auth")
    with pytest.raises(InvalidToken, match="unknown key id"):
        verifier().verify(signer(stranger, KeySet.of(stranger)).issue(1, "jake"))


def test_token_signed_by_another_key_under_a_known_kid_is_rejected():
    stranger = SigningKey.generate("auth")
    with pytest.raises(InvalidToken, match="[Ss]ignature"):
        verifier().verify(signed(claims(), stranger, kid=KEY.kid))


@pytest.mark.parametrize("kid", [None, 7, "", ["x"]])
def test_token_without_a_usable_kid_is_rejected(kid):
    header = {"alg": "EdDSA", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(claims()).encode())
    token = (signing_input + b"." + _b64(KEY.private_key.sign(signing_input))).decode()
    with pytest.raises(InvalidToken):
        verifier().verify(token)


def _hs256(secret: bytes, payload: dict) -> str:
    """Made by hand: PyJWT itself refuses an asymmetric key as an HMAC secret."""
    header = {"alg": "HS256", "typ": "JWT", "kid": KEY.kid}
    signing_input = _b64(json.dumps(header).encode()) + b"." + _b64(json.dumps(payload).encode())
    signature = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def test_hs256_with_the_public_key_as_secret_is_rejected():
    """Algorithm confusion: the public key is public, so an HMAC made with it is forgeable."""
    public = KEY.private_key.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk_x = KEYS.to_jwks()["keys"][0]["x"].encode()
    for secret in (pem, raw, jwk_x):
        with pytest.raises(InvalidToken, match="HS256"):
            verifier().verify(_hs256(secret, claims()))


def test_unsigned_alg_none_token_is_rejected():
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": KEY.kid})
    with pytest.raises(InvalidToken):
        verifier().verify(unsigned)


@pytest.mark.parametrize("field, value", [("iss", "someone-else"), ("aud", "auth"),
                                          ("aud", "profiles"), ("iss", None), ("aud", None)])
def test_wrong_or_missing_issuer_or_audience_is_rejected(field, value):
    with pytest.raises(InvalidToken):
        verifier().verify(signed(claims(**{field: value})))


@pytest.mark.parametrize("missing", ["sub", "username", "iat", "exp"])
def test_token_without_a_required_claim_is_rejected(missing):
    with pytest.raises(InvalidToken):
        verifier().verify(signed(claims(**{missing: None})))


def test_non_numeric_subject_is_rejected():
    with pytest.raises(InvalidToken):
        verifier().verify(signed(claims(sub="abc")))


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Token abc"])
def test_garbage_is_rejected(garbage):
    with pytest.raises(InvalidToken):
        verifier().verify(garbage)


PREVIOUS = SigningKey.generate("auth")


def test_rotation_a_token_of_the_previous_key_verifies_while_it_is_in_the_set():
    old_token = signer(PREVIOUS, KeySet.of(PREVIOUS)).issue(3, "ann")
    assert verifier(KeySet.of(KEY, PREVIOUS)).verify(old_token).user_id == 3


def test_rotation_new_tokens_carry_the_current_kid():
    token = signer(KEY, KeySet.of(KEY, PREVIOUS)).issue(3, "ann")
    assert jwt.get_unverified_header(token)["kid"] == KEY.kid
    with pytest.raises(InvalidToken):
        verifier(KeySet.of(PREVIOUS)).verify(token)


def test_rotation_a_token_of_a_key_dropped_from_the_set_is_rejected():
    old_token = signer(PREVIOUS, KeySet.of(PREVIOUS)).issue(3, "ann")
    with pytest.raises(InvalidToken, match="unknown key id"):
        verifier(KeySet.of(KEY)).verify(old_token)


def test_the_previous_key_does_not_revive_an_expired_token():
    expired = signer(PREVIOUS, KeySet.of(PREVIOUS), ttl_seconds=10,
                     clock=lambda: time.time() - 60).issue(3, "ann")
    with pytest.raises(InvalidToken, match="expired"):
        verifier(KeySet.of(KEY, PREVIOUS)).verify(expired)


class CountingDecode:
    def __init__(self, monkeypatch):
        import conduit_common.tokens as tokens
        self.calls = 0
        real = tokens.decode_signed

        def counting(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)
        monkeypatch.setattr(tokens, "decode_signed", counting)


def test_a_verified_token_is_answered_again_without_checking_its_signature(monkeypatch):
    decode = CountingDecode(monkeypatch)
    codec = verifier()
    token = signer().issue(42, "jake", token_version=3)

    first, second = codec.verify(token), codec.verify(token)

    assert first == second
    assert decode.calls == 1


def test_a_cached_token_is_refused_once_it_expires():
    now = [time.time()]
    codec = TokenCodec(KEYS, clock=lambda: now[0])
    token = signer(ttl_seconds=60).issue(1, "ann")
    codec.verify(token)

    now[0] += 61

    with pytest.raises(InvalidToken, match="expired"):
        codec.verify(token)


def test_a_refused_token_is_not_cached(monkeypatch):
    decode = CountingDecode(monkeypatch)
    codec = verifier()
    forged = signed(claims(), key=PREVIOUS, kid=KEY.kid)
    for _ in range(2):
        with pytest.raises(InvalidToken):
            codec.verify(forged)

    assert decode.calls == 2


def test_the_cache_keeps_only_the_most_recently_used_tokens(monkeypatch):
    decode = CountingDecode(monkeypatch)
    codec = TokenCodec(KEYS, cache_size=2)
    a, b, c = (signer().issue(n, f"user{n}") for n in (1, 2, 3))
    for token in (a, b, a, c):      # c pushes out b, the least recently used
        codec.verify(token)
    assert decode.calls == 3

    codec.verify(a)
    codec.verify(b)

    assert decode.calls == 4

"""Service tokens on the internal API: who may call /internal/..., checked on every route."""
import dataclasses
import time

import falcon
import falcon.testing
import jwt
import pytest
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.keys import KeySet, SigningKey
from conduit_common.service_auth import ServiceTokenSigner
from conduit_common.testing.keys import SERVICE_KEYS, USER_TOKEN_KEY, internal_headers
from conduit_common.tokens import InvalidToken

INTERNAL_PORT = 9100


class Internal:
    uses_database = False

    def on_get(self, req, resp):
        resp.media = {"caller": req.context.caller}


class FakeSocket:
    def getsockname(self):
        return ("127.0.0.1", INTERNAL_PORT)


@pytest.fixture
def internal(settings, codec):
    """An app named "auth" trusting profiles and articles, on its internal port."""
    settings = dataclasses.replace(settings, internal_port=INTERNAL_PORT)
    app = create_service_app("auth", settings, sqlalchemy.create_engine(settings.database_url),
                             codec=codec)
    app.add_route("/internal/events", Internal())
    app.add_route("/internal/users/snapshot", Internal())
    client = falcon.testing.TestClient(app)

    def get(path, headers=None):
        return client.simulate_get(path, headers=headers or {},
                                   extras={"gunicorn.socket": FakeSocket()})
    return get


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def forged(key: SigningKey, **claims) -> str:
    now = int(time.time())
    payload = {"iss": key.owner, "sub": key.owner, "aud": "auth", "iat": now, "exp": now + 60}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key.private_key,
                      algorithm="EdDSA", headers={"kid": key.kid})


def assert_401(response):
    assert response.status_code == 401
    assert response.json["errors"]["body"] and list(response.json["errors"]) == ["body"]


@pytest.mark.parametrize("path", ["/internal/events", "/internal/users/snapshot"])
def test_a_trusted_caller_with_a_token_for_this_service_gets_in(internal, path):
    for caller in ("profiles", "articles"):
        response = internal(path, internal_headers(caller, "auth"))
        assert response.status_code == 200
        assert response.json == {"caller": caller}


@pytest.mark.parametrize("path", ["/internal/events", "/internal/users/snapshot"])
def test_an_unauthenticated_internal_call_is_401_on_every_internal_route(internal, path):
    assert_401(internal(path))
    assert_401(internal(path, {"Authorization": "Bearer"}))
    assert_401(internal(path, {"Authorization": "Basic dXNlcjpwYXNz"}))


def test_a_token_for_another_audience_is_401(internal):
    assert_401(internal("/internal/events", internal_headers("articles", "profiles")))


def test_an_expired_service_token_is_401(internal):
    old = ServiceTokenSigner(SERVICE_KEYS["profiles"], "auth", clock=lambda: time.time() - 600)
    assert_401(internal("/internal/events", bearer(old.token())))


def test_a_token_from_an_untrusted_key_is_401(internal):
    stranger = SigningKey.generate("profiles")
    assert_401(internal("/internal/events", bearer(forged(stranger))))


def test_a_caller_cannot_speak_for_another(internal):
    """articles' key, claiming to be profiles."""
    assert_401(internal("/internal/events",
                        bearer(forged(SERVICE_KEYS["articles"], iss="profiles", sub="profiles"))))


def test_a_user_token_is_not_a_service_token(internal, codec):
    assert_401(internal("/internal/events", bearer(codec.issue(1, "jake"))))
    assert_401(internal("/internal/events", bearer(forged(USER_TOKEN_KEY))))


def test_a_service_token_that_claims_a_long_life_is_401(internal):
    now = int(time.time())
    assert_401(internal("/internal/events",
                        bearer(forged(SERVICE_KEYS["profiles"], iat=now, exp=now + 3600))))


@pytest.mark.parametrize("missing", ["iat", "exp", "sub"])
def test_a_service_token_without_a_required_claim_is_401(internal, missing):
    assert_401(internal("/internal/events", bearer(forged(SERVICE_KEYS["profiles"],
                                                          **{missing: None}))))


def test_health_and_metrics_on_the_internal_port_need_no_token(internal):
    assert internal("/healthz").status_code == 200
    assert internal("/metrics").status_code == 200


def test_a_key_of_a_caller_the_owner_does_not_accept_is_401_even_in_the_set(settings, codec):
    """profiles reads only from auth, so profiles' key is no good at profiles, whatever
    SERVICE_PUBLIC_KEYS holds (keys.INTERNAL_CALLERS)."""
    settings = dataclasses.replace(settings, service_public_keys=KeySet.of(*SERVICE_KEYS.values()))
    app = create_service_app("profiles", settings,
                             sqlalchemy.create_engine(settings.database_url), codec=codec)
    app.add_route("/internal/events", Internal())
    client = falcon.testing.TestClient(app)
    assert_401(client.simulate_get("/internal/events",
                                   headers=internal_headers("profiles", "profiles")))
    assert client.simulate_get("/internal/events",
                               headers=internal_headers("articles", "profiles")).status_code == 200


def test_an_owner_that_trusts_nobody_refuses_every_internal_call(settings, codec):
    settings = dataclasses.replace(settings, service_public_keys=KeySet())
    app = create_service_app("auth", settings, sqlalchemy.create_engine(settings.database_url),
                             codec=codec)
    app.add_route("/internal/events", Internal())
    client = falcon.testing.TestClient(app)
    assert_401(client.simulate_get("/internal/events",
                                   headers=internal_headers("profiles", "auth")))


def test_the_signer_reuses_its_token_and_renews_it_before_expiry():
    now = [1_000_000.0]
    signer = ServiceTokenSigner(SERVICE_KEYS["profiles"], "auth", ttl=60, refresh_before=15,
                                clock=lambda: now[0])
    first = signer.token()
    now[0] += 44
    assert signer.token() == first
    now[0] += 2
    renewed = signer.token()
    assert renewed != first
    claims = jwt.decode(renewed, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert (claims["iss"], claims["sub"], claims["aud"]) == ("profiles", "profiles", "auth")


def _counting_decode(monkeypatch) -> list:
    from conduit_common import service_auth
    calls, real = [], service_auth.decode_signed

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(service_auth, "decode_signed", counting)
    return calls


def test_a_callers_token_is_verified_once_then_answered_until_it_expires(monkeypatch):
    from conduit_common.service_auth import LEEWAY_SECONDS, ServiceTokenVerifier
    calls = _counting_decode(monkeypatch)
    now = [time.time()]
    verifier = ServiceTokenVerifier("auth", KeySet.of(SERVICE_KEYS["profiles"]),
                                    clock=lambda: now[0])
    token = ServiceTokenSigner(SERVICE_KEYS["profiles"], "auth", ttl=60,
                               clock=lambda: now[0]).token()

    answers = [verifier.verify(token) for _ in range(3)]
    now[0] += 60 + LEEWAY_SECONDS - 1
    still = verifier.verify(token)
    now[0] += 2
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(token)

    assert answers == ["profiles"] * 3 and still == "profiles"
    assert len(calls) == 1


def test_a_refused_service_token_is_checked_again_every_time(monkeypatch):
    from conduit_common.service_auth import ServiceTokenVerifier
    calls = _counting_decode(monkeypatch)
    verifier = ServiceTokenVerifier("auth", KeySet.of(SERVICE_KEYS["profiles"]))
    other_audience = ServiceTokenSigner(SERVICE_KEYS["profiles"], "profiles").token()
    for _ in range(2):
        with pytest.raises(InvalidToken):
            verifier.verify(other_audience)
    assert len(calls) == 2

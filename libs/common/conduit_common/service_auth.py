"""Who is calling the internal API: short-lived service tokens, signed by the caller.

A calling service (today the projectors of profiles and articles) holds its own
Ed25519 key (`SERVICE_PRIVATE_KEY`) and signs, per owner it calls, a token with
`iss` = `sub` = its name, `aud` = the owner's name and a 60 s lifetime; the token is
cached and replaced 15 s before it expires, so a call rarely pays for a signature.

Each owner of internal routes trusts the keys in `SERVICE_PUBLIC_KEYS` (a JWKS of the
callers' public keys, current and previous) that belong to a caller allowed to call it
(keys.INTERNAL_CALLERS: auth <- profiles, articles; profiles <- articles). A key's kid
names its owner (keys.py), and the token's `iss` must be that owner: one caller's key
cannot speak for another. Every
request to `/internal/...` without such a token is a 401; /healthz, /readyz and
/metrics stay open on the internal port (probes, Prometheus).
"""
import threading
import time
from collections.abc import Callable

import jwt

from conduit_common.errors import Unauthorized
from conduit_common.keys import KeySet, SigningKey, owner_of
from conduit_common.ports import PRIVATE_PREFIX
from conduit_common.tokens import ALGORITHM, InvalidToken, VerifiedTokens, decode_signed

SERVICE_TOKEN_SECONDS = 60
REFRESH_BEFORE_SECONDS = 15
# A token claiming a longer life than this is refused, whoever signed it: a leaked
# service token must not outlive the minutes it was meant for.
MAX_SERVICE_TOKEN_SECONDS = 300
# Caller and owner run on different hosts: allow this much clock difference.
LEEWAY_SECONDS = 5
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp"]
# Verified service tokens kept per process: a few callers, one current token each.
VERIFIED_SERVICE_TOKENS = 64


class ServiceTokenSigner:
    """The caller's side: a current token for one audience (thread-safe)."""

    def __init__(self, key: SigningKey, audience: str, ttl: int = SERVICE_TOKEN_SECONDS,
                 refresh_before: int = REFRESH_BEFORE_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._key = key
        self._audience = audience
        self._ttl = ttl
        self._refresh_before = min(refresh_before, ttl // 2)
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if now >= self._expires - self._refresh_before:
                issued = int(now)
                self._expires = issued + self._ttl
                claims = {"iss": self._key.owner, "sub": self._key.owner, "aud": self._audience,
                          "iat": issued, "exp": issued + self._ttl}
                self._token = jwt.encode(claims, self._key.private_key, algorithm=ALGORITHM,
                                         headers={"kid": self._key.kid})
            return self._token

    def authorization(self) -> str:
        return f"Bearer {self.token()}"


class ServiceTokenVerifier:
    """The owner's side: which trusted caller a token speaks for.

    A caller sends one token for most of a minute (ServiceTokenSigner), a projector
    with every poll: verified tokens are kept (tokens.VerifiedTokens), since verifying
    the signature each time was some 14 % of auth's internal worker under the bench's
    write mix.
    """

    def __init__(self, service: str, trusted: KeySet,
                 clock: Callable[[], float] = time.time):
        self._service = service
        self._trusted = trusted
        self._verified = VerifiedTokens(VERIFIED_SERVICE_TOKENS, clock, leeway=LEEWAY_SECONDS)

    def verify(self, token: str) -> str:
        caller = self._verified.get(token)
        if caller is None:
            caller, expires = self._verify_signed(token)
            self._verified.put(token, caller, expires)
        return caller

    def _verify_signed(self, token: str) -> tuple[str, float]:
        kid, claims = decode_signed(token, self._trusted, audience=self._service,
                                    required=REQUIRED_CLAIMS, leeway=LEEWAY_SECONDS)
        caller = owner_of(kid)
        if claims["iss"] != caller or claims["sub"] != caller:
            raise InvalidToken(f"key {kid} belongs to {caller}, not {claims['iss']}")
        try:
            lifetime = int(claims["exp"]) - int(claims["iat"])
        except (TypeError, ValueError) as ex:
            raise InvalidToken("iat and exp must be numbers") from ex
        if lifetime > MAX_SERVICE_TOKEN_SECONDS:
            raise InvalidToken(f"a service token may live {MAX_SERVICE_TOKEN_SECONDS} s at most")
        return caller, float(claims["exp"])


def is_internal_api(path: str) -> bool:
    return path.startswith(PRIVATE_PREFIX)


class InternalAuthMiddleware:
    """401 for every /internal/... request without a trusted caller's service token.

    Runs on every request whatever the port (with no internal port configured, tests
    and scripts serve /internal/... on the one port: it is protected there too). The
    caller's name ends up in `req.context.caller`.
    """

    def __init__(self, verifier: ServiceTokenVerifier):
        self._verifier = verifier

    def process_request(self, req, resp):
        req.context.caller = None
        if not is_internal_api(req.path):
            return
        scheme, _, token = (req.get_header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("internal API: a service token is required (Bearer)")
        try:
            req.context.caller = self._verifier.verify(token.strip())
        except InvalidToken as ex:
            raise Unauthorized("internal API: invalid, expired or untrusted service token") from ex

"""User tokens: auth signs them with its Ed25519 key; every service verifies them with
the public key set (JWKS) alone.

Verification trusts nothing in the token before its signature is checked, except to
pick the key: the header must say `alg: EdDSA` and name a `kid` in the set, and the
algorithm list handed to PyJWT is pinned to EdDSA. So "none", an HS256 token that uses
a public key as its HMAC secret (algorithm confusion) or a token from an unknown or
retired key are refused before any claim is read. `iss` and `aud` are required and
checked, so a service token (another audience) is never a user token.

Rotation: the set holds the current key and the previous ones; auth signs with one
key, and a token keeps verifying as long as its kid stays in the set
(docs/operations.md, "Rotating the token keys").
"""
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jwt

from conduit_common.keys import KeySet, SigningKey

ALGORITHM = "EdDSA"
USER_TOKEN_ISSUER = "conduit-auth"
USER_TOKEN_AUDIENCE = "conduit"
REQUIRED_CLAIMS = ["sub", "username", "iat", "exp", "iss", "aud"]
# Verified tokens kept per process (see TokenCodec.verify): a client sends the same
# token with every request, and an Ed25519 verification costs about 90 us, some 15 % of
# a whole read request's CPU in the service.
VERIFIED_CACHE_SIZE = 4096


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by a key we trust."""


class SigningUnavailable(RuntimeError):
    """This process holds no signing key (only auth signs user tokens)."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for. `user_id` is the stable identity."""

    user_id: int
    username: str
    # The user's token version when the token was issued: a password change or a
    # logout raises the user's version and so revokes every older token.
    token_version: int = 0


def decode_signed(token: str, keys: KeySet, *, audience: str, required: Iterable[str],
                  issuer: str | None = None, leeway: float = 0) -> tuple[str, dict]:
    """(kid, claims) of a token signed with EdDSA by a key in `keys`; InvalidToken else."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as ex:
        raise InvalidToken(str(ex)) from ex
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken(f"unknown key id {kid!r}")
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=audience,
                            issuer=issuer, leeway=leeway, options={"require": list(required)})
    except jwt.PyJWTError as ex:
        raise InvalidToken(str(ex)) from ex
    return kid, claims


class VerifiedTokens:
    """Tokens that verified before, with what they said and when they expire (an LRU
    of `size`, thread-safe).

    The same bytes always verify the same way against this process's key set (fixed at
    start), so a cached token only needs its expiry checked again (with the `leeway`
    its verification allowed): an Ed25519 verification costs about 90 us, and callers
    send the same token again and again.
    """

    def __init__(self, size: int, clock: Callable[[], float] = time.time,
                 leeway: float = 0.0):
        self._size = size
        self._clock = clock
        self._leeway = leeway
        self._entries: OrderedDict[str, tuple[object, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str):
        """What the token said, or None if it is not cached; InvalidToken once expired."""
        with self._lock:
            cached = self._entries.get(token)
            if cached is not None:
                self._entries.move_to_end(token)
        if cached is None:
            return None
        value, expires = cached
        if self._clock() < expires + self._leeway:
            return value
        raise InvalidToken("Signature has expired")

    def put(self, token: str, value, expires: float) -> None:
        with self._lock:
            self._entries[token] = (value, expires)
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)


class TokenCodec:
    """Verifies user tokens; issues them only when given a signing key (auth)."""

    def __init__(self, public_keys: KeySet, signing_key: SigningKey | None = None,
                 ttl_seconds: int = 86400, clock: Callable[[], float] = time.time,
                 cache_size: int = VERIFIED_CACHE_SIZE):
        self._public_keys = public_keys
        self._signing_key = signing_key
        self._ttl = ttl_seconds
        self._clock = clock
        self._verified = VerifiedTokens(cache_size, clock)

    @property
    def can_issue(self) -> bool:
        return self._signing_key is not None

    def issue(self, user_id: int, username: str, token_version: int = 0) -> str:
        if self._signing_key is None:
            raise SigningUnavailable("this service has no user-token signing key")
        now = int(self._clock())
        claims = {"sub": str(user_id), "username": username, "iat": now, "exp": now + self._ttl,
                  "ver": token_version, "iss": USER_TOKEN_ISSUER, "aud": USER_TOKEN_AUDIENCE}
        return jwt.encode(claims, self._signing_key.private_key, algorithm=ALGORITHM,
                          headers={"kid": self._signing_key.kid})

    def verify(self, token: str) -> Identity:
        """The identity of a valid token; InvalidToken otherwise.

        A token that verified before is answered from a small per-process cache until
        its `exp`: the same bytes always verify the same way against this process's key
        set (fixed at start), so only the expiry needs checking again. Revocation is
        not decided here: the token version is checked on every request (revocation.py).
        """
        identity = self._verified.get(token)
        if identity is not None:
            return identity
        _, claims = decode_signed(token, self._public_keys, audience=USER_TOKEN_AUDIENCE,
                                  issuer=USER_TOKEN_ISSUER, required=REQUIRED_CLAIMS)
        try:
            identity = Identity(user_id=int(claims["sub"]), username=str(claims["username"]),
                                token_version=int(claims.get("ver", 0)))
            expires = float(claims["exp"])
        except (ValueError, TypeError) as ex:
            raise InvalidToken(str(ex)) from ex
        self._verified.put(token, identity, expires)
        return identity

"""JWT issue and verification, the one token format all services share.

HS256 only: the algorithm list is pinned on decode, so a token that claims
"none" or an asymmetric algorithm is rejected before its signature is looked at.

Tokens are always signed with the current secret. Fallback secrets only verify:
during a rotation they keep tokens signed with the other key valid.
"""
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "username", "iat", "exp"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by us."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for. `user_id` is the stable identity."""

    user_id: int
    username: str
    # The user's token version when the token was issued: a password change or a
    # logout raises the user's version and so revokes every older token.
    token_version: int = 0


class TokenCodec:
    def __init__(self, secret: str, ttl_seconds: int = 86400,
                 clock: Callable[[], float] = time.time, fallbacks: Iterable[str] = ()):
        self._secret = secret
        self._verification_keys = (secret, *fallbacks)
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self, user_id: int, username: str, token_version: int = 0) -> str:
        now = int(self._clock())
        claims = {"sub": str(user_id), "username": username, "iat": now, "exp": now + self._ttl,
                  "ver": token_version}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Identity:
        try:
            claims = self._decode(token)
            return Identity(user_id=int(claims["sub"]), username=str(claims["username"]),
                            token_version=int(claims.get("ver", 0)))
        except (jwt.PyJWTError, ValueError, TypeError) as ex:
            raise InvalidToken(str(ex)) from ex

    def _decode(self, token: str) -> dict:
        """The claims, checked with the first key whose signature matches; only a
        wrong signature moves on to the next key (an expired token stays expired)."""
        for key in self._verification_keys:
            try:
                return jwt.decode(token, key, algorithms=[ALGORITHM],
                                  options={"require": REQUIRED_CLAIMS})
            except jwt.InvalidSignatureError as ex:
                wrong_signature = ex
        raise wrong_signature

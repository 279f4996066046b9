"""Token authentication for Falcon responders.

`AuthMiddleware` makes the codec available; each responder declares what it
needs with `@require_auth` or `@optional_auth`. Afterwards `req.context.identity`
is an `Identity` (or None for an anonymous caller of an optional route).
A token that is present but bad is a 401 on both kinds of route.
"""
import falcon

from conduit_common.errors import Unauthorized
from conduit_common.tokens import InvalidToken, TokenCodec

_SCHEMES = ("token", "bearer")


class AuthMiddleware:
    def __init__(self, codec: TokenCodec):
        self._codec = codec

    def process_request(self, req, resp):
        req.context.token_codec = self._codec
        req.context.identity = None
        req.context.token = None


def _authenticate(req, required: bool) -> None:
    header = req.get_header("Authorization")
    if not header:
        if required:
            raise Unauthorized("missing authorization token")
        return
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in _SCHEMES or not token:
        raise Unauthorized("authorization header must be 'Token <jwt>'")
    try:
        req.context.identity = req.context.token_codec.verify(token)
    except InvalidToken as ex:
        raise Unauthorized("invalid or expired token") from ex
    req.context.token = token


def _required(req, resp, resource, params):
    _authenticate(req, required=True)


def _optional(req, resp, resource, params):
    _authenticate(req, required=False)


require_auth = falcon.before(_required)
optional_auth = falcon.before(_optional)

"""Token authentication for Falcon responders.

`AuthMiddleware` makes the codec available; each responder declares what it
needs with `@require_auth` or `@optional_auth`. Afterwards `req.context.identity`
is an `Identity` (or None for an anonymous caller of an optional route). With a
`TokenVersions` check, a token older than its user's token version (password
changed, logged out) is a 401 too.
A token that is present but bad is a 401 on both kinds of route.
"""
import falcon

from conduit_common.errors import Unauthorized
from conduit_common.tokens import InvalidToken, TokenCodec

_SCHEMES = ("token", "bearer")


class AuthMiddleware:
    """Makes the codec (and the revocation check, if any) available to the hooks."""

    def __init__(self, codec: TokenCodec, token_versions=None):
        self._codec = codec
        self._token_versions = token_versions

    def process_request(self, req, resp):
        req.context.token_codec = self._codec
        req.context.token_versions = self._token_versions
        req.context.identity = None
        req.context.token = None
        # The caller's record as the revocation check read it (TokenVersions.check),
        # or None: a responder that needs the same row can skip its own query.
        req.context.token_record = None


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
        identity = req.context.token_codec.verify(token)
    except InvalidToken as ex:
        raise Unauthorized("invalid or expired token") from ex
    versions = req.context.token_versions
    session = getattr(req.context, "session", None)
    if versions is not None and session is not None:
        current, req.context.token_record = versions.check(session, identity)
        if not current:
            raise Unauthorized("this token has been revoked, sign in again")
    req.context.identity = identity
    req.context.token = token


def _required(req, resp, resource, params):
    _authenticate(req, required=True)


def _optional(req, resp, resource, params):
    _authenticate(req, required=False)


require_auth = falcon.before(_required)
optional_auth = falcon.before(_optional)

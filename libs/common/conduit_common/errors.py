"""One error shape for every service: {"errors": {"body": [...], <field>: [...]}}.

Services raise the domain exceptions below (or marshmallow's ValidationError);
`install_error_handlers` maps each to its status in one place.
"""
import logging

import falcon
import sqlalchemy.exc
from marshmallow import ValidationError

log = logging.getLogger("conduit.errors")

# The RealWorld request envelopes ({"user": {...}}), left out of error field names.
ENVELOPES = frozenset({"user", "article", "comment"})


class ConduitError(Exception):
    """Base of the errors a client is meant to see."""

    status = falcon.HTTP_400

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def to_body(self) -> dict:
        return error_body(self.message, self.fields)


class Unauthorized(ConduitError):
    status = falcon.HTTP_401


class Forbidden(ConduitError):
    status = falcon.HTTP_403


class NotFound(ConduitError):
    status = falcon.HTTP_404


class Unprocessable(ConduitError):
    """Invalid input or a conflict with existing data (422)."""

    status = falcon.HTTP_422

    @classmethod
    def on_field(cls, field: str, problem: str) -> "Unprocessable":
        return cls(f"{field} {problem}", {field: [problem]})


class TooManyRequests(ConduitError):
    """Slow down: try again in `retry_after` seconds (sent as Retry-After)."""

    status = falcon.HTTP_429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class DependencyUnavailable(ConduitError):
    status = falcon.HTTP_503


def error_body(message: str | list[str], fields: dict[str, list[str]] | None = None) -> dict:
    errors: dict[str, list[str]] = dict(fields or {})
    errors["body"] = [message] if isinstance(message, str) else list(message)
    return {"errors": errors}


def flatten_validation_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into {"field": ["problem", ...]}.

    The RealWorld envelope ({"user": {...}}) is dropped from the keys, so a bad
    email is reported as "email", not "user.email".
    """
    if isinstance(messages, list):
        return {prefix or "body": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = str(key)
        if isinstance(value, dict) and name in ENVELOPES and not prefix:
            flat.update(flatten_validation_messages(value, ""))
        else:
            flat.update(flatten_validation_messages(value, f"{prefix}.{name}" if prefix else name))
    return flat


def _handle_conduit_error(req, resp, ex: ConduitError, params):
    resp.status = ex.status
    resp.media = ex.to_body()
    if isinstance(ex, Unauthorized):
        resp.set_header("WWW-Authenticate", "Token")
    if isinstance(ex, TooManyRequests):
        resp.set_header("Retry-After", str(ex.retry_after))


def _handle_validation_error(req, resp, ex: ValidationError, params):
    fields = flatten_validation_messages(ex.messages)
    sentences = [f"{field} {problem}".strip() for field, problems in fields.items()
                 for problem in problems]
    resp.status = falcon.HTTP_422
    resp.media = error_body(sentences, fields)


def _handle_database_unavailable(req, resp, ex: Exception, params):
    # Refused or dropped connections, an exhausted pool, a cancelled or conflicting
    # transaction: the client can only try again later, so it is a 503, not a 500.
    log.error("database unavailable on %s %s: %s", req.method, req.path, ex)
    resp.status = falcon.HTTP_503
    resp.media = error_body("database is unavailable, try again later")


def _handle_unexpected(req, resp, ex: Exception, params):
    # The traceback goes to the log only; the client learns nothing internal.
    log.exception("unhandled error on %s %s", req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.media = error_body("internal server error")


def _serialize_http_error(req, resp, ex: falcon.HTTPError):
    """Falcon's own errors (404 route, 405, bad JSON, ...) in our shape."""
    message = ex.description or ex.title or "error"
    resp.content_type = falcon.MEDIA_JSON
    resp.media = error_body(message)


def install_error_handlers(app: falcon.App) -> None:
    # Falcon picks the most specific handler, so the order here does not matter.
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(ConduitError, _handle_conduit_error)
    app.add_error_handler(ValidationError, _handle_validation_error)
    app.add_error_handler(sqlalchemy.exc.OperationalError, _handle_database_unavailable)
    app.add_error_handler(sqlalchemy.exc.TimeoutError, _handle_database_unavailable)
    app.set_error_serializer(_serialize_http_error)

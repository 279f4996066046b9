"""What the auth routes accept, with the limits the README documents.

Unknown fields are ignored (EXCLUDE) everywhere, and every violation is a 422
keyed by the field (conduit_common maps ValidationError).
"""
from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from conduit_auth import messages
from conduit_common.errors import Unprocessable

USERNAME_MAX = 40
USERNAME_PATTERN = r"^[A-Za-z0-9_-]+$"
EMAIL_MAX = 254                 # RFC 5321's limit on a forward path
PASSWORD_MIN, PASSWORD_MAX = 8, 128
BIO_MAX = 2000
IMAGE_MAX = 2048

_STRING_ERRORS = {"required": messages.BLANK, "null": messages.BLANK,
                  "invalid": messages.NOT_A_STRING}


def _string(*validators, required=False, allow_none=False) -> fields.String:
    return fields.String(required=required, allow_none=allow_none, validate=list(validators),
                         error_messages=_STRING_ERRORS)


def _not_blank():
    return validate.Length(min=1, error=messages.BLANK)


def _at_most(maximum: int):
    return validate.Length(max=maximum, error=messages.TOO_LONG)


def _username(required: bool) -> fields.String:
    return _string(_not_blank(), _at_most(USERNAME_MAX),
                   validate.Regexp(USERNAME_PATTERN, error=messages.INVALID_USERNAME),
                   required=required)


def _email(required: bool) -> fields.String:
    return _string(_not_blank(), _at_most(EMAIL_MAX),
                   validate.Email(error=messages.INVALID_EMAIL), required=required)


def _new_password(required: bool) -> fields.String:
    return _string(validate.Length(min=PASSWORD_MIN, error=messages.TOO_SHORT),
                   _at_most(PASSWORD_MAX), required=required)


_HTTP_URL = validate.URL(schemes={"http", "https"}, require_tld=False,
                         error=messages.INVALID_IMAGE)


def _http_url_or_blank(value: str) -> None:
    if value:
        _HTTP_URL(value)


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


class RegistrationSchema(_Base):
    username = _username(required=True)
    email = _email(required=True)
    password = _new_password(required=True)


class LoginSchema(_Base):
    # Only bounded here: the rules apply when a password is chosen, and a login
    # that breaks them simply does not match (401, no hint).
    email = _string(_not_blank(), _at_most(EMAIL_MAX), required=True)
    password = _string(_not_blank(), _at_most(PASSWORD_MAX), required=True)


class UserUpdateSchema(_Base):
    username = _username(required=False)
    email = _email(required=False)
    password = _new_password(required=False)
    # Our extension: changing the password needs the current one (services.py).
    current_password = fields.String(data_key="currentPassword", validate=_at_most(PASSWORD_MAX),
                                     error_messages=_STRING_ERRORS)
    # bio and image may be cleared with null or ""; both are stored as null.
    bio = _string(_at_most(BIO_MAX), allow_none=True)
    image = _string(_at_most(IMAGE_MAX), _http_url_or_blank, allow_none=True)

    @post_load
    def _blank_means_none(self, data, **kwargs):
        return {key: (None if key in ("bio", "image") and value == "" else value)
                for key, value in data.items()}


def load_envelope(schema: Schema, body, envelope: str = "user") -> dict:
    """Validate {"<envelope>": {...}}: a missing envelope is a 422 on its name."""
    if not isinstance(body, dict):
        if body is None:
            raise Unprocessable.on_field(envelope, messages.ENVELOPE_MISSING)
        raise Unprocessable(messages.BODY_NOT_OBJECT)
    inner = body.get(envelope)
    if not isinstance(inner, dict):
        raise Unprocessable.on_field(envelope, messages.ENVELOPE_MISSING)
    return schema.load(inner)

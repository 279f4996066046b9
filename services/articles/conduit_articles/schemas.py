"""Input of every responder, validated at the edge; errors become 422 with field keys."""
import unicodedata

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from conduit_articles import messages

MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1
MAX_TITLE = 255
MAX_DESCRIPTION = 1000
MAX_TAG = 64
MAX_TAGS = 32


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE    # clients may echo extra fields (e.g. slug): ignore them


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError(messages.CANT_BE_BLANK)


def _text(required: bool, max_length: int | None = None) -> fields.String:
    checks = [_not_blank]
    if max_length:
        checks.append(validate.Length(max=max_length,
                                      error=messages.TOO_LONG.format(max=max_length)))
    return fields.String(required=required, validate=checks, error_messages={
        "required": messages.CANT_BE_BLANK, "null": messages.CANT_BE_BLANK,
        "invalid": messages.MUST_BE_STRING})


def _printable(tag: str) -> None:
    """Tags are labels shown in lists and URLs: no control characters (tabs, newlines...)."""
    if any(unicodedata.category(ch) == "Cc" for ch in tag):
        raise ValidationError(messages.TAG_CONTROL_CHARACTERS)


def _tag_list() -> fields.List:
    tag = fields.String(validate=[validate.Length(max=MAX_TAG,
                                                  error=messages.TOO_LONG.format(max=MAX_TAG)),
                                  _printable],
                        error_messages={"invalid": messages.MUST_BE_STRING})
    return fields.List(tag, allow_none=True, validate=validate.Length(max=MAX_TAGS),
                       error_messages={"invalid": messages.MUST_BE_LIST})


class NewArticle(_Lenient):
    title = _text(required=True, max_length=MAX_TITLE)
    description = _text(required=True, max_length=MAX_DESCRIPTION)
    body = _text(required=True)
    tagList = _tag_list()


class ArticleChanges(_Lenient):
    title = _text(required=False, max_length=MAX_TITLE)
    description = _text(required=False, max_length=MAX_DESCRIPTION)
    body = _text(required=False)
    tagList = _tag_list()


class NewComment(_Lenient):
    body = _text(required=True)


def _envelope(name: str, inner: type[Schema]) -> Schema:
    """{"article": {...}}: the envelope is required and must be an object."""
    envelope = Schema.from_dict({name: fields.Nested(inner, required=True, error_messages={
        "required": messages.CANT_BE_BLANK, "null": messages.CANT_BE_BLANK})},
        name=f"{inner.__name__}Request")
    return envelope(unknown=EXCLUDE)


class _Paging(_Lenient):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


class ArticleListQuery(_Paging):
    tag = fields.String()
    author = fields.String()
    favorited = fields.String()


NEW_ARTICLE = _envelope("article", NewArticle)
ARTICLE_CHANGES = _envelope("article", ArticleChanges)
NEW_COMMENT = _envelope("comment", NewComment)
LIST_QUERY = ArticleListQuery()
FEED_QUERY = _Paging()


def load(schema: Schema, data) -> dict:
    """Validate a request body or query; an absent body is an empty object."""
    return schema.load({} if data is None else data)

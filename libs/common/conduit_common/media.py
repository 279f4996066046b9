"""JSON on orjson for requests and responses, and the one timestamp format."""
from datetime import datetime, timedelta, timezone
from functools import partial

import falcon
import falcon.media
import orjson

from conduit_common.errors import Unprocessable
from conduit_common.text import nul_field

_NO_OFFSET = timedelta(0)


def iso_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and Z, e.g. 2026-11-26T08:04:59.123Z.

    A list page formats 40 of these: with strftime they were 9 % of an articles
    worker's time on the feed. isoformat is C code, and psycopg hands out times in
    the session's zone (UTC by default, as ZoneInfo("Etc/UTC")), so most need no
    conversion: only their offset is checked. The milliseconds are cut, not rounded.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    elif moment.utcoffset() != _NO_OFFSET:
        moment = moment.astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds")[:-len("+00:00")] + "Z"


def _default(value):
    if isinstance(value, datetime):
        return iso_timestamp(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def loads(raw: bytes | bytearray | str):
    """orjson.loads, refusing any string that holds a NUL (see conduit_common.text)."""
    document = orjson.loads(raw)
    # Raw control characters are invalid JSON, so a NUL can only arrive escaped:
    # the document is searched only when the text holds that escape.
    marker = b"\\u0000" if isinstance(raw, (bytes, bytearray)) else "\\u0000"
    if marker in raw:
        field = nul_field(document)
        if field:
            raise Unprocessable.on_field(field, "must not contain NUL characters")
    return document


def json_handler() -> falcon.media.JSONHandler:
    dumps = partial(orjson.dumps, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)
    return falcon.media.JSONHandler(dumps=dumps, loads=loads)


def install_media_handlers(app: falcon.App) -> None:
    handler = json_handler()
    app.req_options.media_handlers[falcon.MEDIA_JSON] = handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = handler

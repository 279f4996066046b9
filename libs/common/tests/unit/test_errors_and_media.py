from datetime import datetime, timedelta, timezone

import orjson

from conduit_common.errors import error_body, flatten_validation_messages
from conduit_common.media import iso_timestamp, json_handler


def test_error_body_has_field_keys_and_a_body_list():
    assert error_body("email has already been taken", {"email": ["has already been taken"]}) == {
        "errors": {"email": ["has already been taken"], "body": ["email has already been taken"]}}


def test_envelope_is_flattened_away_from_field_names():
    messages = {"user": {"email": ["Not a valid email address."], "username": ["too long"]}}
    assert flatten_validation_messages(messages) == {
        "email": ["Not a valid email address."], "username": ["too long"]}


def test_nested_fields_keep_a_dotted_path():
    assert flatten_validation_messages({"article": {"tagList": {"0": ["Not a string"]}}}) == {
        "tagList.0": ["Not a string"]}


def test_timestamp_is_utc_with_milliseconds_and_z():
    moment = datetime(2026, 11, 26, 9, 4, 59, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso_timestamp(moment) == "2026-11-26T08:04:59.123Z"


def test_timestamps_in_other_zones_are_given_in_utc_with_milliseconds_cut():
    berlin = timezone(timedelta(hours=1))
    assert iso_timestamp(datetime(2026, 1, 1, 0, 30, 0, 999999, tzinfo=berlin)) == (
        "2025-12-31T23:30:00.999Z")
    assert iso_timestamp(datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)) == (
        "2026-06-01T12:00:00.000Z")


def test_naive_timestamp_is_taken_as_utc():
    assert iso_timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"


def test_json_handler_formats_datetimes_in_responses():
    body = json_handler().serialize({"at": datetime(2026, 1, 2, tzinfo=timezone.utc)}, None)
    assert orjson.loads(body) == {"at": "2026-01-02T00:00:00.000Z"}


def test_nul_field_names_the_first_string_holding_a_nul():
    from conduit_common.text import nul_field
    assert nul_field({"user": {"email": "a@b.c", "bio": "x\x00"}}) == "bio"
    assert nul_field({"filters": {"tag": ["fine", "\x00"]}}) == "filters.tag"
    assert nul_field("\x00") == "body"
    assert nul_field({"article": {"title": "clean", "tagList": ["a"], "n": 1}}) is None

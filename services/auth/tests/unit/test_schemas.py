"""Input limits of the auth routes, as the README documents them."""
import pytest
from marshmallow import ValidationError

from conduit_auth.schemas import (LoginSchema, RegistrationSchema,
                                  UserUpdateSchema, load_envelope)
from conduit_common.errors import Unprocessable

VALID = {"username": "jake", "email": "jake@jake.jake", "password": "jakejakejake"}


def problems(schema, data) -> dict:
    with pytest.raises(ValidationError) as caught:
        schema.load(data)
    return caught.value.messages


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_registration_requires_each_field(field):
    data = {k: v for k, v in VALID.items() if k != field}

    assert problems(RegistrationSchema(), data) == {field: ["can't be blank"]}


@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_registration_refuses_null_and_non_strings(field):
    assert problems(RegistrationSchema(), {**VALID, field: None}) == {field: ["can't be blank"]}
    assert problems(RegistrationSchema(), {**VALID, field: 42}) == {field: ["must be a string"]}


@pytest.mark.parametrize("username", ["jake", "celeb_u1764144000", "a-b_C9", "x" * 40])
def test_usernames_of_letters_digits_underscore_and_dash_up_to_40_are_accepted(username):
    assert RegistrationSchema().load({**VALID, "username": username})["username"] == username


@pytest.mark.parametrize("username, problem", [
    ("", "can't be blank"),
    ("x" * 41, "is too long (maximum is 40 characters)"),
    ("jake smith", "may contain only letters, digits, '_' and '-'"),
    ("jake/../x", "may contain only letters, digits, '_' and '-'"),
    ("jäke", "may contain only letters, digits, '_' and '-'"),
])
def test_bad_usernames_are_refused(username, problem):
    assert problem in problems(RegistrationSchema(), {**VALID, "username": username})["username"]


@pytest.mark.parametrize("email", ["no-at-sign", "a@", "@b.c", "a b@c.d",
                                   "x" * 250 + "@a.io"])
def test_bad_or_overlong_emails_are_refused(email):
    assert "email" in problems(RegistrationSchema(), {**VALID, "email": email})


def test_an_email_of_254_characters_is_accepted():
    email = "x" * 64 + "@" + ".".join(["d" * 60] * 3) + "." + "e" * 6
    assert len(email) == 254

    assert RegistrationSchema().load({**VALID, "email": email})["email"] == email


@pytest.mark.parametrize("password, ok", [("x" * 7, False), ("x" * 8, True),
                                          ("x" * 128, True), ("x" * 129, False)])
def test_passwords_have_8_to_128_characters(password, ok):
    data = {**VALID, "password": password}
    if ok:
        assert RegistrationSchema().load(data)["password"] == password
    else:
        assert "password" in problems(RegistrationSchema(), data)


def test_the_official_postman_suite_default_credentials_are_valid():
    # newman runs the collection with USERNAME=u<epoch>, EMAIL=<USERNAME>@mail.com,
    # PASSWORD=password (realworld's run-api-tests.sh); its celebrity user is
    # "celeb_"-prefixed (Conduit.postman_collection.json, "Register Celeb").
    for prefix in ("", "celeb_"):
        data = {"username": f"{prefix}u1764144000", "email": f"{prefix}u1764144000@mail.com",
                "password": "password"}
        assert RegistrationSchema().load(data) == data


def test_unknown_fields_are_ignored():
    assert RegistrationSchema().load({**VALID, "admin": True, "id": 1}) == VALID
    assert UserUpdateSchema().load({"bio": "hi", "token": "x"}) == {"bio": "hi"}


def test_login_needs_email_and_password_but_not_their_registration_rules():
    assert LoginSchema().load({"email": "not-an-email", "password": "short"}) == {
        "email": "not-an-email", "password": "short"}
    assert problems(LoginSchema(), {}) == {"email": ["can't be blank"],
                                           "password": ["can't be blank"]}


def test_update_accepts_an_empty_object():
    assert UserUpdateSchema().load({}) == {}


def test_update_stores_blank_bio_and_image_as_null():
    assert UserUpdateSchema().load({"bio": "", "image": ""}) == {"bio": None, "image": None}
    assert UserUpdateSchema().load({"bio": None, "image": None}) == {"bio": None, "image": None}


def test_update_refuses_a_null_username_email_or_password():
    assert set(problems(UserUpdateSchema(), {"username": None, "email": None,
                                             "password": None})) == {
        "username", "email", "password"}


def test_bio_is_limited_to_2000_characters():
    assert UserUpdateSchema().load({"bio": "b" * 2000})["bio"] == "b" * 2000
    assert problems(UserUpdateSchema(), {"bio": "b" * 2001}) == {
        "bio": ["is too long (maximum is 2000 characters)"]}


@pytest.mark.parametrize("image", ["https://api.realworld.io/images/smiley-cyrus.jpeg",
                                   "http://localhost:8080/me.png"])
def test_images_are_http_or_https_urls(image):
    assert UserUpdateSchema().load({"image": image})["image"] == image


@pytest.mark.parametrize("image", ["javascript:alert(1)", "ftp://example.com/a.png",
                                   "not a url", "https://example.com/" + "a" * 2030])
def test_other_images_are_refused(image):
    assert "image" in problems(UserUpdateSchema(), {"image": image})


def test_envelope_missing_is_a_422_on_its_name():
    for body in (None, {}, {"user": None}, {"user": "jake"}, {"users": VALID}):
        with pytest.raises(Unprocessable) as caught:
            load_envelope(RegistrationSchema(), body)
        assert list(caught.value.fields) == ["user"]


def test_a_body_that_is_not_an_object_is_a_422():
    with pytest.raises(Unprocessable):
        load_envelope(RegistrationSchema(), [VALID])


def test_envelope_content_is_validated():
    assert load_envelope(RegistrationSchema(), {"user": VALID}) == VALID

"""POST /flask/api/users/login and POST /flask/api/users (registration) are rate limited
per client address, each with its own limit; nothing else is."""
import http.client
import json
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.exhausts_login_limit
TOO_MANY = {"errors": {"body": ["too many requests, try again later"]}}


def _post(stack, source: str | None, path: str, user: dict) -> tuple[int, bytes]:
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(
        url.hostname, url.port, timeout=15, source_address=(source, 0) if source else None)
    try:
        connection.request("POST", url.path + path, body=json.dumps({"user": user}),
                           headers={"Content-Type": "application/json"})
        resp = connection.getresponse()
        return resp.status, resp.read()
    finally:
        connection.close()


def _login(stack, source: str | None) -> tuple[int, bytes]:
    return _post(stack, source, "/users/login",
                 {"email": "nobody@example.com", "password": "wrong-password"})


def _register(stack, source: str | None) -> tuple[int, bytes]:
    """An invalid registration (no fields): counted by the gateway like any other, but
    auth answers 422 without hashing a password."""
    return _post(stack, source, "/users", {})


def _source(stack) -> str | None:
    """Locally, another loopback address, so this client's limit is its own."""
    return "127.0.0.2" if stack.local else None


def _login_until_limited(stack, source: str | None) -> list[int]:
    """Log in until the first 429 (the rate refills while we try, hence the margin)."""
    attempts = stack.config.login_burst + 20 if stack.local else 200
    statuses = []
    for _ in range(attempts):
        status, body = _login(stack, source)
        statuses.append(status)
        if status == 429:
            assert json.loads(body) == TOO_MANY
            break
    return statuses


def test_repeated_logins_from_one_address_get_429_in_the_error_shape(stack):
    statuses = _login_until_limited(stack, _source(stack))
    assert statuses[0] == 401
    assert statuses[-1] == 429, statuses


def test_the_limit_is_per_client_address(local_stack):
    assert _login_until_limited(local_stack, "127.0.0.3")[-1] == 429
    assert _login(local_stack, "127.0.0.4")[0] == 401


def test_other_routes_are_not_limited(stack, api):
    for _ in range(30):
        _login(stack, _source(stack))
    for _ in range(30):
        assert api.request("GET", "/tags").status_code == 200


def _register_until_limited(stack, source: str | None) -> list[int]:
    attempts = stack.config.register_burst + 40 if stack.local else 400
    statuses = []
    for _ in range(attempts):
        status, body = _register(stack, source)
        statuses.append(status)
        if status == 429:
            assert json.loads(body) == TOO_MANY
            break
    return statuses


def test_repeated_registrations_from_one_address_get_429_in_the_error_shape(stack):
    statuses = _register_until_limited(stack, "127.0.0.5" if stack.local else None)
    assert statuses[0] == 422
    assert statuses[-1] == 429, statuses


def test_registration_and_login_limits_are_separate_and_per_address(local_stack):
    assert _register_until_limited(local_stack, "127.0.0.6")[-1] == 429
    # The same address may still log in, and another one may still register.
    assert _login(local_stack, "127.0.0.6")[0] == 401
    assert _register(local_stack, "127.0.0.7")[0] == 422

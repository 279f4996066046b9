"""Each public prefix reaches its service with /flask stripped; everything else is a 404."""
import http.client
from urllib.parse import urlsplit

import pytest

from conduit_dev import routes

TABLE = routes.load_routes()
NOT_FOUND = {"errors": {"body": ["not found"]}}
PROCESSES = ("auth", "profiles", "articles")


def _route_probes():
    """(public path, service, path the service must see) for every routing table row."""
    for route in TABLE.routes:
        upstream = TABLE.upstream_path(route.prefix)
        yield pytest.param(route.prefix, route.service, upstream, id=route.prefix)
        if route.subpaths:
            yield pytest.param(route.prefix + "/e2e-probe", route.service,
                               upstream + "/e2e-probe", id=route.prefix + "/...")


@pytest.mark.parametrize(("public_path", "service", "upstream_path"), list(_route_probes()))
def test_each_public_prefix_reaches_its_service_without_the_flask_prefix(
        api, logged, new_request_id, public_path, service, upstream_path):
    request_id = new_request_id()
    api.session.get(api.api_url.removesuffix("/flask/api") + public_path,
                    headers={"X-Request-ID": request_id}, timeout=15)
    access = [e for e in logged(service, request_id) if e.get("logger") == "conduit.access"]
    assert [e["path"] for e in access] == [upstream_path]


@pytest.mark.parametrize("path", [
    "/flask/api/usersX", "/flask/api/userX", "/flask/api/profilesX",
    "/flask/api/articlesX", "/flask/api/tags/more", "/flask/api/tagsX",
    "/internal/users?id=1", "/flask/internal/users?id=1", "/flask/api/internal/users?id=1",
    "/flask/api/users/../../internal/users?id=1", "/flask/api/users/..%2F..%2Finternal%2Fusers",
    "/api/users", "/api/tags", "/", "/flask", "/flask/api", "/flask/api/", "/healthz",
])
def test_paths_outside_the_routing_table_are_404_in_the_error_shape(stack, path):
    # http.client sends the path as is (no dot-segment removal).
    url = urlsplit(stack.api_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    try:
        connection.request("GET", path, headers={"X-Request-ID": "e2e-404-probe"})
        resp = connection.getresponse()
        body = resp.read()
    finally:
        connection.close()
    assert resp.status == 404
    assert resp.getheader("Content-Type") == "application/json"
    assert body == b'{"errors":{"body":["not found"]}}'


def test_unrouted_paths_never_reach_a_service(api, logged, new_request_id):
    request_id = new_request_id()
    resp = api.session.get(api.api_url + "/internal/users?id=1",
                           headers={"X-Request-ID": request_id}, timeout=15)
    assert resp.status_code == 404
    assert all(logged(name, request_id, timeout=0.5) == [] for name in PROCESSES)
    assert logged("gateway", request_id)[0]["status"] == 404


def test_a_body_above_one_mebibyte_is_413_in_the_error_shape(api):
    resp = api.request("POST", "/users", data=b"x" * (1024 * 1024 + 1),
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json() == {"errors": {"body": ["request body is too large"]}}


def test_a_method_nginx_refuses_is_405_in_the_error_shape(api):
    resp = api.request("TRACE", "/users")
    assert resp.status_code == 405
    assert resp.json() == {"errors": {"body": ["method not allowed"]}}


def test_a_nul_character_in_a_query_is_400_from_the_service(api):
    # nginx itself refuses %00 in the path (its own 400 page); in a query it passes,
    # and the service refuses it before any query reaches Postgres.
    resp = api.request("GET", "/articles?tag=a%00b")
    assert resp.status_code == 400
    assert resp.json() == {"errors": {"body": ["the URL must not contain NUL (%00) characters"]}}


def test_a_body_just_under_the_limit_reaches_the_service(api):
    user = api.register()
    resp = api.request("PUT", "/user", user.token,
                       json={"user": {"bio": "b" * (1024 * 1024 - 100)}})
    assert resp.status_code != 413

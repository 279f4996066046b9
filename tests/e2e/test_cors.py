"""CORS is answered by the gateway alone: preflights never reach a service."""
import pytest

ALLOWED = "http://localhost:3000"


def _preflight(api, path: str, origin: str, request_id: str = "e2e-preflight"):
    return api.session.options(api.api_url + path, timeout=15, headers={
        "Origin": origin, "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,content-type",
        "X-Request-ID": request_id})


@pytest.mark.parametrize("path", ["/users/login", "/user", "/profiles/someone/follow",
                                  "/articles/some-slug/comments", "/tags"])
def test_preflight_from_an_allowed_origin_is_answered_204_with_the_cors_headers(api, path):
    resp = _preflight(api, path, ALLOWED)
    assert resp.status_code == 204
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert {"GET", "POST", "PUT", "DELETE"} <= {
        m.strip() for m in resp.headers["Access-Control-Allow-Methods"].split(",")}
    allowed_headers = resp.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert int(resp.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in resp.headers["Vary"]


def test_preflight_is_not_forwarded_to_a_service(api, logged, new_request_id):
    request_id = new_request_id()
    assert _preflight(api, "/articles", ALLOWED, request_id).status_code == 204
    assert all(logged(name, request_id, timeout=0.5) == []
               for name in ("auth", "profiles", "articles"))


def test_preflight_from_another_origin_gets_no_allow_origin(api):
    resp = _preflight(api, "/articles", "https://evil.example")
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert "Access-Control-Allow-Methods" not in resp.headers


def test_preflight_on_an_unrouted_path_is_404(api):
    assert _preflight(api, "/nothing-here", ALLOWED).status_code == 404


def test_responses_to_an_allowed_origin_carry_allow_origin_and_expose_the_request_id(api):
    resp = api.request("GET", "/tags", headers={"Origin": ALLOWED})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "X-Request-ID" in resp.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Methods" not in resp.headers


def test_responses_to_other_origins_carry_no_allow_origin(api):
    resp = api.request("GET", "/tags", headers={"Origin": "https://evil.example"})
    assert resp.status_code == 200
    assert "Access-Control-Allow-Origin" not in resp.headers

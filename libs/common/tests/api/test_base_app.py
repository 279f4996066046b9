"""The contracts every service gets from create_service_app."""
import json
import time
import logging

import falcon
import falcon.testing
import jwt
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.auth import require_auth
from conduit_common.logs import RequestIdMiddleware


def auth(token, scheme="Token"):
    return {"Authorization": f"{scheme} {token}"}


def test_required_auth_accepts_token_scheme(client, codec):
    result = client.simulate_get("/private", headers=auth(codec.issue(5, "jake")))
    assert result.status_code == 200
    assert result.json == {"user_id": 5, "username": "jake"}


def test_required_auth_accepts_bearer_scheme(client, codec):
    result = client.simulate_get("/private", headers=auth(codec.issue(5, "jake"), "Bearer"))
    assert result.status_code == 200


def test_missing_token_is_401_in_the_error_shape(client):
    result = client.simulate_get("/private")
    assert result.status_code == 401
    assert result.json == {"errors": {"body": ["missing authorization token"]}}


def test_tampered_token_is_401(client, codec):
    token = codec.issue(5, "jake")
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}xx"
    result = client.simulate_get("/private", headers=auth(tampered))
    assert result.status_code == 401
    assert result.json["errors"]["body"] == ["invalid or expired token"]


def test_alg_none_token_is_401(client):
    unsigned = jwt.encode({"sub": "5", "username": "jake", "iat": 1, "exp": 9999999999},
                          None, algorithm="none")
    assert client.simulate_get("/private", headers=auth(unsigned)).status_code == 401


def test_unknown_scheme_is_401(client, codec):
    result = client.simulate_get("/private", headers=auth(codec.issue(5, "jake"), "Basic"))
    assert result.status_code == 401


def test_optional_auth_lets_anonymous_callers_through(client):
    result = client.simulate_get("/public")
    assert result.status_code == 200
    assert result.json == {"user_id": None}


def test_optional_auth_still_rejects_a_bad_token(client):
    assert client.simulate_get("/public", headers=auth("garbage")).status_code == 401


def test_optional_auth_identifies_a_valid_token(client, codec):
    result = client.simulate_get("/public", headers=auth(codec.issue(9, "ann")))
    assert result.json == {"user_id": 9}


def test_malformed_json_is_400_in_the_error_shape(client):
    result = client.simulate_post("/echo", body="{not json",
                                  headers={"Content-Type": "application/json"})
    assert result.status_code == 400
    assert list(result.json) == ["errors"]
    assert result.json["errors"]["body"]


def test_body_over_the_limit_is_413(client):
    result = client.simulate_post("/echo", json={"blob": "x" * 2000})
    assert result.status_code == 413
    assert "1024" in result.json["errors"]["body"][0]


def test_body_within_the_limit_is_accepted(client):
    result = client.simulate_post("/echo", json={"blob": "x" * 100})
    assert result.status_code == 200
    assert result.json == {"received": {"blob": "x" * 100}}


def test_domain_not_found_is_404(client):
    result = client.simulate_get("/missing")
    assert result.status_code == 404
    assert result.json == {"errors": {"body": ["article not found"]}}


def test_domain_conflict_is_422_keyed_by_field(client):
    result = client.simulate_get("/conflict")
    assert result.status_code == 422
    assert result.json == {"errors": {"email": ["has already been taken"],
                                      "body": ["email has already been taken"]}}


def test_unknown_route_is_404_in_the_error_shape(client):
    result = client.simulate_get("/nowhere")
    assert result.status_code == 404
    assert list(result.json) == ["errors"]


def test_unexpected_exception_is_a_generic_500_with_the_traceback_only_in_the_log(
        client, caplog):
    with caplog.at_level(logging.ERROR):
        result = client.simulate_get("/crash")
    assert result.status_code == 500
    assert result.json == {"errors": {"body": ["internal server error"]}}
    assert "secret internals" not in result.text
    assert any(record.exc_info and "secret internals" in str(record.exc_info[1])
               for record in caplog.records)


def test_request_id_is_taken_from_the_caller_and_echoed(client):
    result = client.simulate_get("/public", headers={"X-Request-ID": "abc-123"})
    assert result.headers["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_absent_or_unsafe(client):
    generated = client.simulate_get("/public").headers["X-Request-ID"]
    unsafe = client.simulate_get("/public", headers={"X-Request-ID": "bad id\nx"})
    assert len(generated) == 32
    assert unsafe.headers["X-Request-ID"] not in ("bad id\nx", generated)


def test_access_log_is_json_carrying_the_request_id(client, capsys):
    client.simulate_get("/public", headers={"X-Request-ID": "trace-me"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    access = [line for line in lines if line["logger"] == "conduit.access"]
    assert access and access[-1]["request_id"] == "trace-me"
    assert access[-1]["status"] == 200 and access[-1]["service"] == "probe"


def test_access_log_can_be_turned_off_and_the_request_id_still_travels(capsys):
    class Hello:
        def on_get(self, req, resp):
            resp.media = {"ok": True}

    app = falcon.App(middleware=[RequestIdMiddleware(access_log=False)])
    app.add_route("/hello", Hello())
    result = falcon.testing.TestClient(app).simulate_get("/hello",
                                                         headers={"X-Request-ID": "quiet"})

    assert result.headers["X-Request-ID"] == "quiet"
    assert "conduit.access" not in capsys.readouterr().err


def test_healthz_answers_without_a_database(client):
    result = client.simulate_get("/healthz")
    assert result.status_code == 200
    assert result.json == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(client):
    result = client.simulate_get("/readyz")
    assert result.status_code == 503
    assert result.json == {"errors": {"body": ["database is not reachable"]}}


def test_probes_scrapes_and_feed_polls_are_not_in_the_access_log_at_info(client, capsys):
    for path in ("/healthz", "/metrics", "/internal/events", "/public"):
        client.simulate_get(path)
    loggers_and_paths = [(entry["logger"], entry.get("path"))
                         for entry in map(json.loads, capsys.readouterr().err.splitlines())]
    assert ("conduit.access", "/public") in loggers_and_paths
    for quiet in ("/healthz", "/metrics", "/internal/events"):
        assert ("conduit.access", quiet) not in loggers_and_paths


def test_a_database_that_is_down_is_a_fast_503_not_a_500(client):
    started = time.monotonic()
    result = client.simulate_get("/database")
    assert result.status_code == 503
    assert result.json == {"errors": {"body": ["database is unavailable, try again later"]}}
    assert time.monotonic() - started < 2.0


def test_nul_in_a_json_string_is_422_on_its_field(client):
    # PostgreSQL cannot store U+0000: without this guard it would reach a query as a 500.
    result = client.simulate_post("/echo", body='{"article": {"title": "a\\u0000b"}}',
                                  headers={"Content-Type": "application/json"})
    assert result.status_code == 422
    assert result.json == {"errors": {"title": ["must not contain NUL characters"],
                                      "body": ["title must not contain NUL characters"]}}


def test_nul_in_a_list_item_is_reported_on_the_list(client):
    result = client.simulate_post("/echo", json={"article": {"tagList": ["ok", "b\x00d"]}})
    assert result.status_code == 422
    assert result.json["errors"]["tagList"] == ["must not contain NUL characters"]


def test_an_escaped_backslash_before_u0000_is_not_a_nul(client):
    # JSON text \\u0000 is a backslash followed by "u0000": ordinary characters.
    result = client.simulate_post("/echo", body='{"title": "C:\\\\u0000"}',
                                  headers={"Content-Type": "application/json"})
    assert result.status_code == 200
    assert result.json == {"received": {"title": "C:\\u0000"}}


def test_nul_in_the_url_path_or_query_is_400(client):
    in_path = client.simulate_get("/public%00x")
    in_query = client.simulate_get("/public", query_string="tag=a%00b")
    for result in (in_path, in_query):
        assert result.status_code == 400
        assert result.json == {"errors": {"body": [
            "the URL must not contain NUL (%00) characters"]}}
    assert client.simulate_get("/public", query_string="tag=a%2500b").status_code == 200


def test_an_app_built_without_a_codec_verifies_tokens_but_cannot_issue(settings, codec):
    """What profiles and articles get: the public keys only."""
    class CanIssue:
        uses_database = False

        @require_auth
        def on_get(self, req, resp):
            resp.media = {"can_issue": req.context.token_codec.can_issue}

    app = create_service_app("probe", settings, sqlalchemy.create_engine(settings.database_url))
    app.add_route("/can-issue", CanIssue())
    result = falcon.testing.TestClient(app).simulate_get(
        "/can-issue", headers={"Authorization": f"Token {codec.issue(1, 'jake')}"})
    assert result.status_code == 200
    assert result.json == {"can_issue": False}

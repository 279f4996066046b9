"""Headers every answer carries, and what the access log leaves out."""
import falcon
import falcon.testing

from conduit_common.logs import loggable_uri


class Secretive:
    uses_database = False
    no_store = True

    def on_get(self, req, resp):
        resp.media = {"token": "t"}


def test_every_answer_says_nosniff_even_errors(client):
    assert client.simulate_get("/public").headers["X-Content-Type-Options"] == "nosniff"
    assert client.simulate_get("/missing").headers["X-Content-Type-Options"] == "nosniff"


def test_only_resources_that_carry_secrets_say_no_store(client):
    client.app.add_route("/secretive", Secretive())

    assert client.simulate_get("/secretive").headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in client.simulate_get("/public").headers


def test_the_access_log_redacts_sensitive_query_values():
    req = falcon.testing.create_req(path="/api/x", query_string="token=abc&limit=5&Password=p")

    assert loggable_uri(req) == "/api/x?token=[redacted]&limit=5&Password=[redacted]"
    assert loggable_uri(falcon.testing.create_req(path="/api/x")) == "/api/x"

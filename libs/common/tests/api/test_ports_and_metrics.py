"""The internal port split and /metrics of the base app."""
import dataclasses
import gc

import falcon
import falcon.testing
import pytest
import sqlalchemy
from prometheus_client import Gauge, generate_latest

from conduit_common.app import create_service_app
from conduit_common.metrics import SAMPLER, GaugeSampler, instrument_pool
from conduit_common.testing.keys import internal_headers

INTERNAL_PORT = 9100


class FakeSocket:
    """What gunicorn puts in the WSGI environ: the accepted socket."""

    def __init__(self, port):
        self._port = port

    def getsockname(self):
        return ("127.0.0.1", self._port)


class Feed:
    uses_database = False

    def on_get(self, req, resp):
        resp.media = {"events": []}


class Item:
    uses_database = False

    def on_get(self, req, resp, slug):
        resp.media = {"slug": slug}


@pytest.fixture
def split_client(settings, codec):
    settings = dataclasses.replace(settings, internal_port=INTERNAL_PORT)
    app = create_service_app("auth", settings, sqlalchemy.create_engine(settings.database_url),
                             codec=codec)
    app.add_route("/internal/events", Feed())
    app.add_route("/api/items/{slug}", Item())
    return falcon.testing.TestClient(app)


def get(client, path, port):
    return client.simulate_get(path, extras={"gunicorn.socket": FakeSocket(port)},
                               headers=internal_headers("profiles", "auth"))


def test_the_internal_api_and_metrics_answer_only_on_the_internal_port(split_client):
    assert get(split_client, "/internal/events", 8000).status_code == 404
    assert get(split_client, "/metrics", 8000).status_code == 404
    assert get(split_client, "/internal/events", INTERNAL_PORT).status_code == 200
    assert get(split_client, "/metrics", INTERNAL_PORT).status_code == 200


def test_public_routes_do_not_answer_on_the_internal_port_but_health_does(split_client):
    assert get(split_client, "/api/items/a", 8000).status_code == 200
    assert get(split_client, "/api/items/a", INTERNAL_PORT).status_code == 404
    for port in (8000, INTERNAL_PORT):
        assert get(split_client, "/healthz", port).status_code == 200


def test_a_host_header_naming_the_internal_port_does_not_open_it(split_client):
    result = split_client.simulate_get("/internal/events", headers={"Host": f"x:{INTERNAL_PORT}"},
                                       extras={"gunicorn.socket": FakeSocket(8000)})
    assert result.status_code == 404


def test_requests_are_counted_by_route_template_not_by_raw_path(split_client):
    for slug in ("a", "b", "c"):
        get(split_client, f"/api/items/{slug}", 8000)

    text = get(split_client, "/metrics", INTERNAL_PORT).text

    line = next(line for line in text.splitlines()
                if line.startswith("conduit_http_requests_total{")
                and 'route="/api/items/{slug}"' in line and 'service="auth"' in line)
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert 'route="/api/items/a"' not in text
    assert "conduit_http_request_duration_seconds_bucket" in text


def gauge_value(text: str, name: str, service: str) -> float:
    line = next(line for line in text.splitlines()
                if line.startswith(f"{name}{{") and f'service="{service}"' in line)
    return float(line.rsplit(" ", 1)[1])


def test_the_in_flight_gauge_counts_the_request_being_answered(settings, codec):
    seen = {}

    class Watch:
        uses_database = False

        def on_get(self, req, resp):
            SAMPLER.sample()   # what the sampler thread does every second
            seen["during"] = gauge_value(generate_latest().decode(),
                                         "conduit_http_requests_in_flight", "watched")

    app = create_service_app("watched", settings,
                             sqlalchemy.create_engine(settings.database_url), codec=codec)
    app.add_route("/api/watch", Watch())
    assert falcon.testing.TestClient(app).simulate_get("/api/watch").status_code == 200
    SAMPLER.sample()
    after = gauge_value(generate_latest().decode(), "conduit_http_requests_in_flight", "watched")
    assert (seen["during"], after) == (1.0, 0.0)


def test_sampled_gauges_add_up_live_sources_and_forget_dead_ones():
    gauge = Gauge("conduit_test_sampled", "test", ["service"]).labels("s")
    sampler = GaugeSampler(interval=3600)

    class Source:
        def __init__(self, value):
            self.value = value

    kept, dropped = Source(2), Source(5)
    sampler.add(gauge, kept, lambda source: source.value)
    sampler.add(gauge, dropped, lambda source: source.value)
    assert gauge._value.get() == 7
    del dropped
    gc.collect()
    kept.value = 3
    sampler.sample()
    assert gauge._value.get() == 3


def test_the_pool_gauge_follows_checked_out_connections():
    engine = sqlalchemy.create_engine("sqlite://", poolclass=sqlalchemy.pool.QueuePool)
    instrument_pool(engine, "pooled")
    with engine.connect():
        SAMPLER.sample()
        during = gauge_value(generate_latest().decode(),
                             "conduit_db_pool_connections_in_use", "pooled")
    SAMPLER.sample()
    after = gauge_value(generate_latest().decode(), "conduit_db_pool_connections_in_use",
                        "pooled")
    assert (during, after) == (1.0, 0.0)

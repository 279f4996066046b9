"""The k8s routing waits on a service as long as the gateway of gateway/routes.yml does.

Each Ingress carries the `timeouts` of the routes it serves as ingress-nginx
annotations (whole seconds), each HTTPRoute rule as Gateway API `timeouts`; and the
read timeout stays above the services' own budget (conduit_common.db) and within
the 3 s a frozen service may take to answer 503 (docs/operations.md, time budgets).
"""
import re
import sys
from pathlib import Path

import yaml

from conduit_common import db
from conduit_common.settings import CommonSettings
from conduit_common.testing.keys import USER_TOKEN_KEYS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from conduit_dev import routes as gateway_routes  # noqa: E402

TABLE = gateway_routes.load_routes()
PREFIX = "nginx.ingress.kubernetes.io/"


def route_timeouts(path):
    """The Timeouts of the routes.yml entry that owns `path`."""
    for route in TABLE.routes:
        if path == route.prefix or (route.subpaths and path.startswith(route.prefix + "/")):
            return route.timeouts
    raise AssertionError(f"{path} is not in gateway/routes.yml")


def test_every_read_timeout_exceeds_the_service_budget_and_answers_within_3_s():
    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS, database_url="unused")
    service_budget = (db.POOL_TIMEOUT_SECONDS + settings.db_statement_timeout_ms / 1000
                      + settings.consistency_wait_seconds)
    for route in TABLE.routes:
        assert route.timeouts.read > service_budget, route
        assert route.timeouts.read + route.timeouts.connect <= 3, route


def test_each_ingress_has_the_timeouts_of_its_routes(docs, overlay):
    # Not the docs page (static files, not in routes.yml): the controller's defaults.
    ingresses = [d for d in docs(overlay) if d["kind"] == "Ingress"
                 and d["metadata"]["name"] != "conduit-docs"]
    assert ingresses
    for ingress in ingresses:
        annotations = ingress["metadata"]["annotations"]
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                # a public path this Ingress serves: the regex with its group filled in
                sample = path["path"].replace("(/.*)?", "").replace("/?", "").replace(
                    ".+", "x").replace("(", "").replace(")", "").rstrip("$")
                expected = route_timeouts(sample)
                assert annotations[PREFIX + "proxy-connect-timeout"] == str(expected.connect)
                assert annotations[PREFIX + "proxy-read-timeout"] == str(expected.read)
                assert annotations[PREFIX + "proxy-send-timeout"] == str(expected.read)
                # a timeout is not retried on another pod (it would double the wait)
                assert "timeout" not in annotations[PREFIX + "proxy-next-upstream"]


def test_each_httproute_rule_has_the_timeouts_of_its_routes(docs, gateway_target):
    rendered = docs(gateway_target)
    checked = 0
    for route in (d for d in rendered if d["kind"] == "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            if "backendRefs" not in rule or rule["backendRefs"][0]["name"] == "docs":
                continue
            for match in rule["matches"]:
                value = match["path"]["value"]
                expected = route_timeouts(value.rstrip("/"))
                assert rule["timeouts"]["backendRequest"] == f"{expected.read}s", value
                assert rule["timeouts"]["request"] == f"{expected.read}s", value
                checked += 1
    assert checked


def test_routes_yml_rejects_a_timeout_that_is_not_whole_seconds(tmp_path):
    text = (gateway_routes.ROUTES_FILE.read_text().replace("read: 2", "read: 2.5"))
    (tmp_path / "routes.yml").write_text(text)
    try:
        gateway_routes.load_routes(tmp_path / "routes.yml")
    except ValueError as ex:
        assert "whole number" in str(ex)
    else:
        raise AssertionError("2.5 s accepted: ingress-nginx's annotations take whole seconds")
    assert yaml.safe_load(text)["timeouts"]["read"] == 2.5


def test_no_container_sends_a_statement_timeout_through_pgbouncer(docs, target):
    """PgBouncer (transaction mode) refuses the `options` startup parameter."""
    for doc in docs(target):
        if doc["kind"] != "Deployment":
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            if "pooler" in (env.get("DATABASE_URL") or ""):
                assert env.get("DB_STATEMENT_TIMEOUT_MS") == "0", container["name"]


def test_the_services_drain_within_their_grace_period(docs, overlay):
    """preStop sleep + gunicorn's graceful_timeout fit terminationGracePeriodSeconds."""
    # read, not imported: importing it sets PROMETHEUS_MULTIPROC_DIR for this process
    source = (Path(db.__file__).parent / "gunicorn_defaults.py").read_text()
    graceful_timeout = int(re.search(r"^graceful_timeout = (\d+)", source, re.M)[1])
    for doc in docs(overlay):
        if doc["kind"] != "Deployment" or doc["metadata"]["name"] not in (
                "auth", "profiles", "articles"):
            continue
        pod = doc["spec"]["template"]["spec"]
        (container,) = [c for c in pod["containers"] if c["name"] == doc["metadata"]["name"]]
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep"
        pre_stop = int(command[1])
        # long enough for the endpoint removal to reach the controllers
        assert pre_stop >= 5
        assert container["readinessProbe"]["periodSeconds"] <= pre_stop
        assert pre_stop + graceful_timeout < pod["terminationGracePeriodSeconds"]

"""`MONITORING=1 make run`: a real Prometheus scrapes every service's internal port,
both projectors and the gateway (stub_status through prometheus-nginx-exporter), with
the cluster's alert rules loaded.

The stack starts as tests/e2e starts it (conduit_dev.processes.running_stack, free
ports) with monitoring on. Skipped when Debian's prometheus or
prometheus-nginx-exporter package is missing and cannot be installed here (not root,
no apt).
"""
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from conduit_common.testing.postgres import free_port  # noqa: E402
from conduit_dev import gateway, monitoring, processes  # noqa: E402
from conduit_dev.config import DEFAULT_PORTS, StackConfig  # noqa: E402
from conduit_dev.system import MissingProgram, ensure_program  # noqa: E402

UP_WITHIN_SECONDS = 30


def _config(run_dir: Path, monitoring_on: bool = True, **overrides) -> StackConfig:
    admin_url = os.environ.get("DATABASE_URL") or None
    return StackConfig(
        run_dir=run_dir, ports={name: free_port() for name in DEFAULT_PORTS},
        pg_port=free_port(), admin_url=admin_url,
        db_name=f"conduit_mon_{uuid.uuid4().hex[:10]}" if admin_url else "conduit",
        persistent_pg=False, drop_database=bool(admin_url), web_concurrency=1,
        monitoring=monitoring_on, **overrides)


def test_the_scrape_config_names_every_internal_port_and_projector(tmp_path):
    config = _config(tmp_path)
    written = monitoring.write_config(config)
    scrape = yaml.safe_load(written.read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"]
               for job in scrape["scrape_configs"]}
    assert targets == {
        "auth": [f"127.0.0.1:{config.ports['auth_internal']}"],
        "profiles": [f"127.0.0.1:{config.ports['profiles_internal']}"],
        "articles": [f"127.0.0.1:{config.ports['articles_internal']}"],
        "profiles-projector": [f"127.0.0.1:{config.ports['profiles_projector']}"],
        "articles-projector": [f"127.0.0.1:{config.ports['articles_projector']}"],
        "gateway": [f"127.0.0.1:{config.ports['nginx_exporter']}"],
    }
    rules = yaml.safe_load((written.parent / "rules.yml").read_text())
    assert {r["alert"] for g in rules["groups"] for r in g["rules"]} >= {
        "ConduitHigh5xxRatio", "ConduitProjectorLagHigh"}


def test_monitoring_is_off_unless_asked_and_its_ports_are_then_not_needed():
    assert StackConfig.from_env({}).monitoring is False
    assert StackConfig.from_env({"MONITORING": "0"}).monitoring is False
    on = StackConfig.from_env({"MONITORING": "1", "PROMETHEUS_PORT": "9999",
                               "GATEWAY_STATUS_PORT": "9998", "NGINX_EXPORTER_PORT": "9997"})
    assert on.monitoring and on.ports["prometheus"] == 9999 and on.needs_port("prometheus")
    assert (on.ports["gateway_status"], on.ports["nginx_exporter"]) == (9998, 9997)
    assert on.needs_port("gateway_status") and on.needs_port("nginx_exporter")
    off = StackConfig.from_env({})
    assert not any(off.needs_port(p) for p in ("prometheus", "gateway_status", "nginx_exporter"))


def test_stub_status_gets_a_loopback_listener_only_with_monitoring(tmp_path):
    public = {"gateway_bind": "0.0.0.0"}
    on = _config(tmp_path / "on", **public)
    conf = (gateway.write_config(on).parent / "conf.d" / "status.conf").read_text()
    # Its own listener on loopback, even when the public one is open to the network.
    assert f"listen 127.0.0.1:{on.ports['gateway_status']};" in conf
    assert "stub_status;" in conf
    public_conf = (on.run_dir / "nginx" / "conf.d" / "conduit.conf").read_text()
    assert "stub_status;" not in public_conf
    # A later run without monitoring leaves no status listener behind in the same run_dir.
    off = _config(tmp_path / "on", monitoring_on=False)
    gateway.write_config(off)
    assert not (off.run_dir / "nginx" / "conf.d" / "status.conf").exists()


@pytest.fixture(scope="module")
def stack():
    try:
        ensure_program("prometheus", "prometheus")
        ensure_program("prometheus-nginx-exporter", "prometheus-nginx-exporter")
    except MissingProgram as ex:
        pytest.skip(f"no Prometheus or nginx exporter: {ex}")
    # Not tmp_path: nginx workers run as nobody under root and need to reach it.
    run_dir = Path(tempfile.mkdtemp(prefix="conduit-monitoring-"))
    run_dir.chmod(0o755)
    try:
        with processes.running_stack(_config(run_dir), run_dir / "logs", {}) as local:
            yield local
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _api(stack, path: str, **params) -> dict:
    url = f"{monitoring.prometheus_url(stack.config)}/api/v1/{path}"
    body = requests.get(url, params=params, timeout=5).json()
    assert body["status"] == "success", body
    return body["data"]


def _eventually(check, seconds: float):
    """check() until it returns something truthy; the last result otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_prometheus_reports_every_target_up(stack):
    def health():
        targets = _api(stack, "targets", state="active")["activeTargets"]
        return {t["labels"]["job"]: t["health"] for t in targets}

    def all_up():
        seen = health()
        return seen if set(seen) == set(monitoring.JOBS) and set(seen.values()) == {"up"} \
            else None

    assert _eventually(all_up, UP_WITHIN_SECONDS), health()


def test_request_metrics_arrive_with_their_service_and_route(stack):
    assert requests.get(f"{stack.api_url}/tags", timeout=5).status_code == 200

    def tags_counted():
        return _api(stack, "query", query='conduit_http_requests_total{route="/api/tags"}')[
            "result"]

    result = _eventually(tags_counted, UP_WITHIN_SECONDS)
    assert result, "GET /tags never showed up in conduit_http_requests_total"
    (series,) = result
    labels = series["metric"]
    # honor_labels: the sample's own `service`, the job named like the k8s monitors.
    wanted = {"service": "articles", "job": "articles", "method": "GET", "status": "200"}
    assert {key: labels[key] for key in wanted} == wanted


def _gateway_requests(stack) -> float | None:
    result = _api(stack, "query", query='nginx_http_requests_total{job="gateway"}')["result"]
    return float(result[0]["value"][1]) if result else None


def test_gateway_requests_are_counted_in_prometheus(stack):
    assert _eventually(lambda: _api(stack, "query", query='nginx_up{job="gateway"} == 1')[
        "result"], UP_WITHIN_SECONDS), "the exporter never reached nginx's stub_status"
    before = _eventually(lambda: _gateway_requests(stack), UP_WITHIN_SECONDS)
    assert before is not None, "nginx_http_requests_total never arrived"
    sent = 25
    for _ in range(sent):
        # Unrouted: answered by nginx itself (404 in the error shape), counted all the same.
        assert requests.get(f"{stack.config.gateway_url}/no-such-path", timeout=5
                            ).status_code == 404
    after = _eventually(lambda: (v := _gateway_requests(stack)) is not None
                        and v >= before + sent and v, UP_WITHIN_SECONDS)
    assert after, f"nginx_http_requests_total stayed near {before} after {sent} requests"


def test_the_status_listener_is_not_the_public_one(stack):
    public = requests.get(f"{stack.config.gateway_url}/stub_status", timeout=5)
    assert public.status_code == 404 and "Active connections" not in public.text
    status = requests.get(gateway.status_url(stack.config), timeout=5)
    assert status.status_code == 200 and status.text.startswith("Active connections:")


def test_projector_and_outbox_metrics_are_scraped(stack):
    wanted = {("profiles-projector", "auth-users"), ("articles-projector", "auth-users"),
              ("articles-projector", "profiles-follows")}

    def caught_up():
        result = _api(stack, "query", query="conduit_projector_caught_up == 1")["result"]
        return {(r["metric"]["job"], r["metric"]["projection"]) for r in result}

    assert _eventually(lambda: caught_up() >= wanted, UP_WITHIN_SECONDS), caught_up()
    owners = {r["metric"]["owner"] for r in
              _api(stack, "query", query="conduit_outbox_events")["result"]}
    assert owners == {"auth", "profiles"}


def test_the_alert_rules_are_loaded_and_evaluate(stack):
    def evaluated():
        groups = _api(stack, "rules", type="alert")["groups"]
        rules = {r["name"]: r for g in groups for r in g["rules"]}
        return rules if rules and all(r.get("lastEvaluation", "").startswith("2")
                                      for r in rules.values()) else None

    rules = _eventually(evaluated, UP_WITHIN_SECONDS)
    assert rules, "no alert rules evaluated"
    assert {"ConduitHigh5xxRatio", "ConduitHighLatencyP99", "ConduitProjectorLagHigh",
            "ConduitOutboxConsumerBehind"} <= set(rules)
    assert {name for name, r in rules.items() if r["health"] != "ok"} == set()
    firing = {name for name, r in rules.items() if r["state"] == "firing"}
    assert not firing & {"ConduitTargetDown", "ConduitHigh5xxRatio"}

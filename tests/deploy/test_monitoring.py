"""k8s/components/monitoring: what the monitors scrape, what the alerts and the dashboard
query, and that every metric they name is one the code exports.

Structure: the Prometheus Operator CRD schemas (../shared/tools/validate-crds, run over
every target by test_tls.py's schema test, and here over the component alone). PromQL
syntax: `promtool check rules` when Debian's prometheus package is installed.
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMMON = ROOT / "libs" / "common" / "conduit_common"
SERVICES = ("auth", "profiles", "articles")
PROJECTORS = ("profiles-projector", "articles-projector")
# Metrics from elsewhere, each with its source: Prometheus itself, kube-state-metrics
# (kube-prometheus-stack), the ingress-nginx controller (our PodMonitor of its pods).
EXTERNAL = {"up": "prometheus", "kube_pod_status_ready": "kube-state-metrics",
            "kube_pod_status_phase": "kube-state-metrics",
            "nginx_ingress_controller_requests": "ingress-nginx"}
# PromQL words that look like metric names.
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "rate", "increase", "irate", "by",
                "without", "on", "ignoring", "group_left", "group_right", "and", "or",
                "unless", "histogram_quantile", "absent", "le", "offset", "bool", "topk",
                "bottomk", "quantile", "label_values", "clamp_min", "clamp_max", "delta",
                "deriv", "time", "vector", "scalar"}
# Every alert the brief asks for, by what it watches.
REQUIRED_ALERTS = {"ConduitHigh5xxRatio", "ConduitHighLatencyP99", "ConduitProjectorLagHigh",
                   "ConduitOutboxConsumerBehind", "ConduitProjectionNotCaughtUp",
                   "ConduitProjectorFailing", "ConduitPodNotReady"}


def exported_metrics():
    """conduit_* names as registered in libs/common (Counter/Gauge/Histogram and the
    scrape-time GaugeMetricFamily), with the series names Prometheus derives."""
    names = set()
    for path in COMMON.rglob("*.py"):
        text = path.read_text()
        for kind, name in re.findall(
                r'\b(Counter|Gauge|Histogram|GaugeMetricFamily)\(\s*"(conduit_[a-z0-9_]+)"', text):
            names.add(name)
            if kind == "Histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


EXPORTED = exported_metrics()


def metric_names(expr):
    """Identifiers of an expression that name series (not functions, labels or strings)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                               r"\1", without_labels)
    without_durations = re.sub(r"\[[^\]]*\]", "", without_groupings)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_durations))
    return {w for w in words if w not in PROMQL_WORDS and not w.startswith("$")
            and not re.fullmatch(r"[0-9.e]+", w)}


@pytest.fixture(scope="module")
def gce(docs):
    return docs("gce")


def by_kind(rendered, kind):
    return [d for d in rendered if d["kind"] == kind]


def alert_rules(rendered):
    (rule,) = by_kind(rendered, "PrometheusRule")
    return [r for g in rule["spec"]["groups"] for r in g["rules"]]


def dashboard(rendered):
    (cm,) = [d for d in by_kind(rendered, "ConfigMap")
             if d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    (text,) = cm["data"].values()
    return cm, json.loads(text)


def dashboard_exprs(board):
    def walk(panels):
        for panel in panels:
            yield from (t["expr"] for t in panel.get("targets", []))
            yield from walk(panel.get("panels", []))
    return list(walk(board["panels"]))


def test_the_names_are_found_in_the_code():
    """The grep finds every family the brief lists (a broken grep would pass anything)."""
    assert {"conduit_http_requests_total", "conduit_http_request_duration_seconds_bucket",
            "conduit_http_requests_in_flight", "conduit_db_pool_connections_in_use",
            "conduit_db_pool_timeouts_total", "conduit_internal_calls_total",
            "conduit_outbox_events", "conduit_outbox_consumer_lag_seconds",
            "conduit_outbox_consumer_last_seen_seconds",
            "conduit_projector_events_applied_total", "conduit_projector_lag_seconds_bucket",
            "conduit_projector_position", "conduit_projector_caught_up",
            "conduit_projector_rebuilds_total", "conduit_projector_failures_total"} <= EXPORTED


def test_metric_name_extraction():
    expr = ('histogram_quantile(0.99, sum by (service, le) (rate(x_bucket{a=~"b|c"}[5m])))'
            ' > 0.5 and on (pod) up{job="auth"} == 0')
    assert metric_names(expr) == {"x_bucket", "up"}


def test_only_gce_carries_the_monitoring_objects(docs, target):
    kinds = {d["kind"] for d in docs(target)}
    monitoring = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    assert monitoring <= kinds if target.startswith("gce") else not monitoring & kinds


def test_services_are_scraped_on_their_internal_port_only(gce):
    (monitor,) = by_kind(gce, "ServiceMonitor")
    selected = [s for s in by_kind(gce, "Service")
                if s["metadata"]["labels"].get("app") in
                monitor["spec"]["selector"]["matchExpressions"][0]["values"]]
    assert sorted(s["metadata"]["name"] for s in selected) == sorted(SERVICES)
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["conduit"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("internal", "/metrics")
    for service in selected:
        ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
        assert ports["internal"] == 9000


def test_projectors_are_scraped_on_their_health_port(gce):
    (monitor,) = [m for m in by_kind(gce, "PodMonitor")
                  if m["metadata"]["name"] == "conduit-projectors"]
    (expression,) = monitor["spec"]["selector"]["matchExpressions"]
    assert (expression["key"], expression["operator"]) == ("app", "In")
    assert sorted(expression["values"]) == sorted(PROJECTORS)
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    for deployment in by_kind(gce, "Deployment"):
        if deployment["metadata"]["name"] in PROJECTORS:
            (app,) = deployment["spec"]["template"]["spec"]["containers"]
            assert {p["name"]: p["containerPort"] for p in app["ports"]} == {"http": 8000}


def test_job_labels_match_the_alerts_and_make_run(gce):
    """job = the app label, as tools/conduit_dev/monitoring.py names its scrape jobs."""
    ours = [m for m in by_kind(gce, "ServiceMonitor") + by_kind(gce, "PodMonitor")
            if m["spec"]["namespaceSelector"] == {"matchNames": ["conduit"]}]
    assert len(ours) == 2
    for monitor in ours:
        assert monitor["spec"]["jobLabel"] == "app"
    sys.path.insert(0, str(ROOT / "tools"))
    from conduit_dev import monitoring
    # make run's gateway is our nginx (stub_status through the exporter): job `gateway`.
    assert set(monitoring.JOBS) == set(SERVICES + PROJECTORS) | {"gateway"}


# The controllers' namespaces (as the NetworkPolicies know them) -> the pod labels of
# their charts and the port their metrics are on.
GATEWAY_CONTROLLERS = {
    "ingress-nginx": ({"app.kubernetes.io/name": "ingress-nginx",
                       "app.kubernetes.io/component": "controller"}, "metrics"),
    "nginx-gateway": ({"app.kubernetes.io/name": "nginx-gateway-fabric"}, "metrics"),
}


def test_both_gateway_controllers_are_scraped_in_their_own_namespace(gce):
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from test_network_policies import CONTROLLERS
    assert set(GATEWAY_CONTROLLERS) == set(CONTROLLERS)
    monitors = {m["spec"]["namespaceSelector"]["matchNames"][0]: m
                for m in by_kind(gce, "PodMonitor")
                if m["spec"]["namespaceSelector"]["matchNames"] != ["conduit"]}
    assert set(monitors) == set(GATEWAY_CONTROLLERS)
    for namespace, (labels, port) in GATEWAY_CONTROLLERS.items():
        monitor = monitors[namespace]
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [namespace]}
        assert monitor["spec"]["selector"] == {"matchLabels": labels}
        (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
        assert (endpoint["port"], endpoint["path"]) == (port, "/metrics")
        # The controller's `namespace`/`ingress` labels name our objects; the target's
        # namespace (the controller's) must stay the one Prometheus gives.
        assert not endpoint.get("honorLabels")
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_the_gateway_alert_reads_a_metric_one_of_our_monitors_scrapes(gce):
    rules = {r["alert"]: r["expr"] for r in alert_rules(gce)}
    assert "nginx_ingress_controller_requests" in rules["ConduitGateway5xxRatio"]
    assert '"5.."' in rules["ConduitGateway5xxRatio"]
    assert EXTERNAL["nginx_ingress_controller_requests"] in {
        m["spec"]["namespaceSelector"]["matchNames"][0] for m in by_kind(gce, "PodMonitor")}


def test_the_required_alerts_exist_with_severity_and_summary(gce):
    rules = alert_rules(gce)
    names = {r["alert"] for r in rules}
    assert REQUIRED_ALERTS <= names
    for rule in rules:
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_alert_queries_metrics_the_code_exports(gce):
    for rule in alert_rules(gce):
        for name in metric_names(rule["expr"]):
            assert name in EXPORTED or name in EXTERNAL, (rule["alert"], name)


def test_each_alert_family_watches_what_its_name_says(gce):
    rules = {r["alert"]: r["expr"] for r in alert_rules(gce)}
    assert "conduit_http_requests_total" in rules["ConduitHigh5xxRatio"]
    assert '"5.."' in rules["ConduitHigh5xxRatio"]
    assert "histogram_quantile(0.99" in rules["ConduitHighLatencyP99"]
    assert "conduit_projector_lag_seconds_bucket" in rules["ConduitProjectorLagHigh"]
    assert "conduit_outbox_consumer_lag_seconds" in rules["ConduitOutboxConsumerBehind"]
    assert "conduit_projector_caught_up" in rules["ConduitProjectionNotCaughtUp"]
    assert "conduit_projector_failures_total" in rules["ConduitProjectorFailing"]
    assert "kube_pod_status_ready" in rules["ConduitPodNotReady"]


def test_the_dashboard_parses_and_queries_exported_metrics(gce):
    cm, board = dashboard(gce)
    assert cm["metadata"]["name"] == "conduit-grafana-dashboard"   # no hash suffix
    assert board["uid"] and board["title"]
    exprs = dashboard_exprs(board)
    used = set()
    for expr in exprs:
        names = metric_names(expr)
        assert names, expr
        for name in names:
            assert name in EXPORTED or name in EXTERNAL, (name, expr)
        used |= names
    # requests, errors, latency, in-flight, pool, projector lag, outbox size
    assert {"conduit_http_requests_total", "conduit_http_request_duration_seconds_bucket",
            "conduit_http_requests_in_flight", "conduit_db_pool_connections_in_use",
            "conduit_projector_lag_seconds_bucket", "conduit_outbox_events",
            "conduit_outbox_consumer_lag_seconds"} <= used
    assert any("histogram_quantile(0.5," in e and "route" in e for e in exprs)
    assert any("histogram_quantile(0.99," in e and "route" in e for e in exprs)


def test_the_dashboard_file_is_the_configmap(gce):
    _, board = dashboard(gce)
    path = ROOT / "k8s" / "components" / "monitoring" / "dashboard.json"
    assert json.loads(path.read_text()) == board


def test_monitoring_component_passes_the_prometheus_operator_schemas(
        render, tmp_path, validate_crds):
    docs = [d for d in yaml.safe_load_all(render("gce")) if d
            and d["apiVersion"].startswith("monitoring.coreos.com/")]
    # ServiceMonitor, the projectors' and both gateways' PodMonitors, PrometheusRule.
    assert len(docs) == 5
    manifest = tmp_path / "monitoring.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    result = subprocess.run([sys.executable, str(validate_crds), str(manifest)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_accepts_the_rules(gce, tmp_path):
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package prometheus)")
    (rule,) = by_kind(gce, "PrometheusRule")
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = subprocess.run([promtool, "check", "rules", str(path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_operations_doc_says_what_to_do_for_every_alert(gce):
    doc = (ROOT / "docs" / "operations.md").read_text()
    section = doc.split("## What to watch", 1)[1].split("\n## ", 1)[0]
    for rule in alert_rules(gce):
        assert f"`{rule['alert']}`" in section, rule["alert"]

"""k8s/components/tracing: an OpenTelemetry Collector and OTEL_EXPORTER_OTLP_ENDPOINT
for every service and projector; without the component nothing changes. The collector's
configuration (k8s/components/tracing/otel-collector.yaml, shared with
docker-compose.tracing.yml) is checked for the keys the collector needs: no collector
binary runs here.
"""
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "k8s" / "components" / "tracing"
CONFIG_FILE = COMPONENT / "otel-collector.yaml"
TRACED = ("auth", "profiles", "articles", "profiles-projector", "articles-projector")
ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
COLLECTOR = "otel-collector"


def by_kind(rendered, kind):
    return {d["metadata"]["name"]: d for d in rendered if d["kind"] == kind}


def runtime_config(rendered):
    (runtime,) = [c for name, c in by_kind(rendered, "ConfigMap").items()
                  if name.startswith("conduit-runtime-")]
    return runtime["data"]


def test_without_the_component_nothing_traces(docs, target):
    rendered = docs(target)
    if "tracing" in target:
        return
    assert ENDPOINT not in runtime_config(rendered)
    assert not [d for d in rendered if d["metadata"]["name"].startswith(COLLECTOR)]
    for deployment in by_kind(rendered, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            assert ENDPOINT not in {e["name"] for e in container.get("env", [])}


def test_every_service_and_projector_gets_the_collector_endpoint(docs):
    rendered = docs("gce+tracing")
    runtime_name = next(n for n in by_kind(rendered, "ConfigMap")
                        if n.startswith("conduit-runtime-"))
    assert runtime_config(rendered)[ENDPOINT] == f"http://{COLLECTOR}:4318"
    deployments = by_kind(rendered, "Deployment")
    for name in TRACED:
        (app,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        # Through the runtime ConfigMap they all read (its new hash rolls them).
        assert {"configMapRef": {"name": runtime_name}} in app["envFrom"], name
        assert ENDPOINT not in {e["name"] for e in app.get("env", [])}, name
    # The rest of the runtime settings survive the merge.
    assert {"LOG_LEVEL", "WEB_CONCURRENCY"} <= set(runtime_config(rendered))


def test_the_endpoint_reaches_the_collectors_receiver(docs):
    rendered = docs("gce+tracing")
    service = by_kind(rendered, "Service")[COLLECTOR]
    (port,) = service["spec"]["ports"]
    assert port["port"] == 4318
    deployment = by_kind(rendered, "Deployment")[COLLECTOR]
    template = deployment["spec"]["template"]
    assert all(template["metadata"]["labels"].get(k) == v
               for k, v in service["spec"]["selector"].items())
    (app,) = template["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in app["ports"]}
    assert ports[port["targetPort"]] == 4318
    receiver = yaml.safe_load(CONFIG_FILE.read_text())["receivers"]["otlp"]["protocols"]["http"]
    host, _, listen_port = receiver["endpoint"].rpartition(":")
    # Every interface: the collector's default (localhost) would refuse the pods.
    assert (host, int(listen_port)) == ("0.0.0.0", 4318)


def test_the_collector_runs_the_committed_config(docs):
    rendered = docs("gce+tracing")
    spec = by_kind(rendered, "Deployment")[COLLECTOR]["spec"]["template"]["spec"]
    (app,) = spec["containers"]
    assert app["image"].startswith("otel/opentelemetry-collector:")
    assert app["image"].rsplit(":", 1)[1] not in ("", "latest")
    (flag,) = [a for a in app["args"] if a.startswith("--config=")]
    path = pathlib.PurePosixPath(flag.split("=", 1)[1])
    mount = next(m for m in app["volumeMounts"] if m["mountPath"] == str(path.parent))
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    (item,) = volume["configMap"]["items"]
    assert item["path"] == path.name
    configmap = by_kind(rendered, "ConfigMap")[volume["configMap"]["name"]]
    assert configmap["data"][item["key"]] == CONFIG_FILE.read_text()
    for probe in ("readinessProbe", "livenessProbe"):
        assert app[probe]["tcpSocket"]["port"] == "otlp-http"


def test_the_collector_config_defines_and_uses_every_component():
    config = yaml.safe_load(CONFIG_FILE.read_text())
    assert set(config) == {"receivers", "processors", "exporters", "service"}
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"traces"}
    traces = pipelines["traces"]
    for kind in ("receivers", "processors", "exporters"):
        used = traces.get(kind, [])
        # A name used but not defined stops the collector at start; one defined but
        # unused is ignored silently (a typo in a pipeline would hide it).
        assert set(used) == set(config[kind]), kind
    assert traces["receivers"] == ["otlp"] and "debug" in traces["exporters"]
    # memory_limiter first, as the collector's docs require; batch after it.
    assert traces["processors"][0] == "memory_limiter"
    assert config["processors"]["memory_limiter"]["limit_mib"] > 0
    assert set(config["receivers"]["otlp"]["protocols"]) == {"http"}
    assert config["exporters"]["debug"]["verbosity"] in ("basic", "normal", "detailed")


def test_the_memory_limit_of_the_config_fits_the_container(docs):
    rendered = docs("gce+tracing")
    (app,) = by_kind(rendered, "Deployment")[COLLECTOR]["spec"]["template"]["spec"][
        "containers"]
    limit = app["resources"]["limits"]["memory"]
    assert limit.endswith("Mi")
    limiter = yaml.safe_load(CONFIG_FILE.read_text())["processors"]["memory_limiter"]
    assert limiter["limit_mib"] < int(limit[:-2])


def test_the_collector_accepts_only_our_pods_and_may_reach_an_otlp_backend(docs):
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from test_network_policies import allowed_by, allowed_edges, cluster_pods, pod

    rendered = docs("gce+tracing")
    edges = allowed_edges(rendered)
    assert {e[0] for e in edges if e[1] == COLLECTOR} == set(TRACED)
    assert {e[2] for e in edges if e[1] == COLLECTOR} == {4318}
    policies = [d for d in rendered if d["kind"] == "NetworkPolicy"]
    collector = next(p for p in cluster_pods(rendered) if p["name"] == COLLECTOR)
    jaeger = pod("jaeger", "tracing", {"app": "jaeger"},
                 [("otlp-grpc", 4317, "TCP"), ("admin", 14269, "TCP")])
    assert allowed_by(policies, collector, "Egress", jaeger, ("otlp-grpc", 4317, "TCP"),
                      jaeger)
    assert not allowed_by(policies, collector, "Egress", jaeger, ("admin", 14269, "TCP"),
                          jaeger)

"""The NetworkPolicies allow exactly the call graph of docs/architecture.md.

Every pair of pods (ours, the ingress and gateway controllers, cluster DNS, Prometheus
and a Grafana beside it in `monitoring`, a Prometheus-labelled pod elsewhere, a stranger
in our namespace and one outside it) is evaluated with the NetworkPolicy rules; the
set of allowed (from, to, port) must equal the expected one.
"""
NAMESPACE = "conduit"
CONTROLLERS = ("ingress-nginx", "nginx-gateway")
# Only the projectors call other services (the owners' event feeds and snapshots);
# the APIs read local copies and call nobody.
CALLS = {("profiles-projector", "auth"), ("articles-projector", "auth"),
         ("articles-projector", "profiles")}
SERVICES = ("auth", "profiles", "articles")
PROJECTORS = ("profiles-projector", "articles-projector")
PUBLIC_PORT, INTERNAL_PORT, PROJECTOR_PORT = 8000, 9000, 8000
# The API docs page (k8s/base/docs.yaml): only the controllers reach it; it calls nobody.
DOCS, DOCS_PORT = "docs", 8080
# ingress-nginx's JSON error backend (k8s/base/errors.yaml): only that controller uses
# it (custom-http-errors + default-backend); it calls nobody.
ERRORS, ERRORS_PORT = "errors", 8080
# The optional OpenTelemetry Collector (k8s/components/tracing), OTLP over HTTP.
COLLECTOR, OTLP_HTTP_PORT = "otel-collector", 4318
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}


def pod(name, namespace, labels, ports):
    return {"name": name, "namespace": namespace, "labels": labels, "ports": ports}


def cluster_pods(rendered):
    """Our workloads' pods plus the outside pods they meet on a real cluster."""
    pods = []
    for workload in (d for d in rendered if d["kind"] in ("Deployment", "StatefulSet")):
        template = workload["spec"]["template"]
        ports = [(p.get("name"), p["containerPort"], p.get("protocol", "TCP"))
                 for c in template["spec"]["containers"] for p in c.get("ports", [])]
        pods.append(pod(workload["metadata"]["name"], NAMESPACE,
                        template["metadata"]["labels"], ports))
    for controller in CONTROLLERS:
        pods.append(pod(controller, controller, {"app.kubernetes.io/name": controller},
                        [("http", 80, "TCP")]))
    pods.append(pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"},
                    [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]))
    # The scraper, a neighbour of it that must not get in, and a look-alike elsewhere.
    pods.append(pod("prometheus", "monitoring", dict(PROMETHEUS_LABELS), [("web", 9090, "TCP")]))
    pods.append(pod("grafana", "monitoring", {"app.kubernetes.io/name": "grafana"},
                    [("http", 3000, "TCP")]))
    pods.append(pod("fake-prometheus", "default", dict(PROMETHEUS_LABELS),
                    [("web", 9090, "TCP")]))
    for cluster in (d for d in rendered if d["kind"] == "Cluster"):
        # CloudNativePG's instance pods (primary and standbys) and its operator.
        name = cluster["metadata"]["name"]
        for index, role in enumerate(("primary", "replica"), start=1):
            pods.append(pod(f"{name}-{index}", NAMESPACE,
                            {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance",
                             "cnpg.io/instanceRole": role},
                            [("postgresql", 5432, "TCP"), ("status", 8000, "TCP")]))
        pods.append(pod("cnpg-operator", "cnpg-system",
                        {"app.kubernetes.io/name": "cloudnative-pg"}, [("webhook", 9443, "TCP")]))
    for pooler in (d for d in rendered if d["kind"] == "Pooler"):
        pods.append(pod(pooler["metadata"]["name"], NAMESPACE,
                        {"cnpg.io/poolerName": pooler["metadata"]["name"],
                         "cnpg.io/cluster": pooler["spec"]["cluster"]["name"],
                         "cnpg.io/podRole": "pooler"}, [("pgbouncer", 5432, "TCP")]))
    if any(d["kind"] == "Cluster" for d in rendered):
        # What has no pod selector: the Kubernetes API and the backup bucket.
        pods.append(pod("kube-apiserver", None, {}, [("https", 443, "TCP"),
                                                     ("https-alt", 6443, "TCP")]))
        pods.append(pod("storage.googleapis.com", None, {}, [("https", 443, "TCP")]))
    pods.append(pod("stranger", NAMESPACE, {"app": "stranger"}, [("http", 8000, "TCP")]))
    pods.append(pod("outsider", "default", {"app": "outsider"}, [("https", 443, "TCP")]))
    return pods


def selects(selector, labels):
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, values = expr["key"], expr.get("values", [])
        if not {"In": labels.get(key) in values, "NotIn": labels.get(key) not in values,
                "Exists": key in labels, "DoesNotExist": key not in labels}[expr["operator"]]:
            return False
    return True


def namespace_labels(name):
    return {"kubernetes.io/metadata.name": name}


# Address ranges would bypass the pod-level graph; only the data tier's pods may use
# one, on these ports, for what has no pod selector (the API server, the bucket).
IPBLOCK_PORTS = {443, 6443}
DATA_TIER_LABELS = ("cnpg.io/cluster", "cnpg.io/poolerName")


def peer_matches(peer, other, policy_namespace):
    if "ipBlock" in peer:
        # Outside the cluster's pods (namespace None) only: an ipBlock never selects pods.
        return other["namespace"] is None
    if other["namespace"] is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], namespace_labels(other["namespace"])):
            return False
    elif other["namespace"] != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), other["labels"])


def port_matches(rule_ports, target, port):
    if not rule_ports:
        return True
    name, number, protocol = port
    for entry in rule_ports:
        wanted = entry.get("port")
        if entry.get("protocol", "TCP") == protocol and wanted in (None, number, name):
            return True
    return False


def allowed_by(policies, subject, direction, other, port, target):
    """Whether the policies on `subject` let traffic in (from other) or out (to other)."""
    section, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    relevant = [p for p in policies if p["metadata"]["namespace"] == subject["namespace"]
                and direction in p["spec"]["policyTypes"]
                and selects(p["spec"]["podSelector"], subject["labels"])]
    if not relevant:
        return True
    for policy in relevant:
        for rule in policy["spec"].get(section, []):
            peers = rule.get(peers_key)
            if (not peers or any(peer_matches(peer, other, policy["metadata"]["namespace"])
                                 for peer in peers)) and port_matches(rule.get("ports"), target,
                                                                      port):
                return True
    return False


def check_ip_blocks(policies):
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            if any("ipBlock" in peer for peer in rule.get("to", [])):
                selector = policy["spec"]["podSelector"].get("matchLabels", {})
                assert set(selector) & set(DATA_TIER_LABELS), policy["metadata"]["name"]
                assert {p["port"] for p in rule["ports"]} <= IPBLOCK_PORTS, policy
        for rule in policy["spec"].get("ingress", []):
            assert not any("ipBlock" in peer for peer in rule.get("from", [])), policy


def allowed_edges(rendered):
    policies = [d for d in rendered if d["kind"] == "NetworkPolicy"]
    check_ip_blocks(policies)
    pods = cluster_pods(rendered)
    edges = set()
    for source in pods:
        for target in pods:
            if source is target or NAMESPACE not in (source["namespace"], target["namespace"]) \
                    or source["namespace"] is None:
                continue  # traffic between outside pods is not ours to police
            for port in target["ports"]:
                if (allowed_by(policies, source, "Egress", target, port, target)
                        and allowed_by(policies, target, "Ingress", source, port, target)):
                    edges.add((source["name"], target["name"], port[1], port[2]))
    return edges


def expected_edges(rendered):
    ours = [d["metadata"]["name"] for d in rendered if d["kind"] in ("Deployment", "StatefulSet")]
    # Public routes on the public port only; feeds and snapshots on the internal port
    # only; Prometheus scrapes /metrics where it is served (the services' internal
    # port, the projectors' one port), nothing else.
    edges = {(c, s, PUBLIC_PORT, "TCP") for c in CONTROLLERS for s in SERVICES}
    edges |= {(c, DOCS, DOCS_PORT, "TCP") for c in CONTROLLERS}
    edges.add(("ingress-nginx", ERRORS, ERRORS_PORT, "TCP"))
    if COLLECTOR in ours:
        # k8s/components/tracing: every service and projector sends spans; nothing else.
        edges |= {(s, COLLECTOR, OTLP_HTTP_PORT, "TCP") for s in SERVICES + PROJECTORS}
    edges |= {(caller, callee, INTERNAL_PORT, "TCP") for caller, callee in CALLS}
    edges |= {("prometheus", s, INTERNAL_PORT, "TCP") for s in SERVICES}
    edges |= {("prometheus", p, PROJECTOR_PORT, "TCP") for p in PROJECTORS}
    clusters = [d["metadata"]["name"] for d in rendered if d["kind"] == "Cluster"]
    if not clusters:
        edges |= {(s, "postgres", 5432, "TCP") for s in SERVICES + PROJECTORS}
        edges |= {(p, "kube-dns", 53, proto) for p in ours + ["stranger"]
                  for proto in ("UDP", "TCP")}
        return edges
    # CloudNativePG: the APIs' requests go through the pooler; migrations, projectors
    # and the feeds' LISTEN straight to the instances (session state).
    (cluster,) = clusters
    instances = (f"{cluster}-1", f"{cluster}-2")
    (pooler,) = [d["metadata"]["name"] for d in rendered if d["kind"] == "Pooler"]
    edges |= {(s, pooler, 5432, "TCP") for s in SERVICES}
    edges |= {(s, i, 5432, "TCP") for s in SERVICES + PROJECTORS + (pooler,) for i in instances}
    edges |= {(a, b, port, "TCP") for a in instances for b in instances if a != b
              for port in (5432, 8000)}
    edges |= {("cnpg-operator", i, port, "TCP") for i in instances for port in (5432, 8000)}
    edges |= {(p, "kube-apiserver", port, "TCP") for p in instances + (pooler,)
              for port in (443, 6443)}
    # The same address-range rule lets the pooler reach the bucket's address too (a
    # NetworkPolicy cannot tell the two apart; docs/operations.md: Cilium FQDN rules).
    edges |= {(p, "storage.googleapis.com", 443, "TCP") for p in instances + (pooler,)}
    edges |= {(p, "kube-dns", 53, proto) for p in ours + list(instances) + [pooler, "stranger"]
              for proto in ("UDP", "TCP")}
    return edges


def test_policies_allow_exactly_the_call_graph(docs, target):
    rendered = docs(target)
    assert allowed_edges(rendered) == expected_edges(rendered)


def test_the_projectors_are_in_the_graph_and_the_apis_call_no_peer(docs, target):
    edges = allowed_edges(docs(target))
    ours = set(SERVICES + PROJECTORS)
    peer_calls = {(source, dest) for source, dest, port, _ in edges
                  if source in ours and dest in ours}
    assert peer_calls == CALLS
    assert {e for e in edges if e[1] in PROJECTORS} == {
        ("prometheus", p, PROJECTOR_PORT, "TCP") for p in PROJECTORS}, "only scrapes"


def test_internal_and_public_ports_are_reached_by_disjoint_callers(docs, target):
    """The controllers never reach port 9000 (feeds, snapshots, /metrics); the
    projectors and Prometheus never reach the public port 8000 of a service."""
    edges = allowed_edges(docs(target))
    into_services = {(source, port) for source, dest, port, _ in edges if dest in SERVICES}
    public = {source for source, port in into_services if port == PUBLIC_PORT}
    internal = {source for source, port in into_services if port == INTERNAL_PORT}
    assert public == set(CONTROLLERS)
    assert internal == set(PROJECTORS) | {"prometheus"}


def test_the_services_listen_on_both_ports_the_policies_name(docs, target):
    """The evaluator sees 9000 only if the containers declare it: guard that."""
    pods = {p["name"]: p for p in cluster_pods(docs(target))}
    for service in SERVICES:
        assert {(n, number) for n, number, _ in pods[service]["ports"]} == {
            ("http", PUBLIC_PORT), ("internal", INTERNAL_PORT)}


def test_everything_in_the_namespace_is_denied_by_default(docs, target):
    policies = [d for d in docs(target) if d["kind"] == "NetworkPolicy"]
    defaults = [p for p in policies if p["spec"]["podSelector"] == {}
                and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert defaults, "a default-deny policy keeps new pods closed until they get their own"


def test_the_evaluator_notices_an_extra_permission(docs):
    rendered = docs("dev")
    for policy in rendered:
        if policy["kind"] == "NetworkPolicy" and policy["metadata"]["name"] == "postgres":
            policy["spec"]["ingress"][0]["from"].append(
                {"namespaceSelector": {"matchLabels": namespace_labels("ingress-nginx")}})
    assert ("ingress-nginx", "postgres", 5432, "TCP") in allowed_edges(rendered)


def test_only_the_controllers_reach_docs_and_docs_reaches_only_dns(docs, target):
    edges = allowed_edges(docs(target))
    assert {e for e in edges if e[1] == DOCS} == {
        (c, DOCS, DOCS_PORT, "TCP") for c in CONTROLLERS}
    assert {e[1] for e in edges if e[0] == DOCS} == {"kube-dns"}

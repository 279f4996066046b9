"""Public paths reach the right Service, port and upstream path; nothing else is routed.

The expectation comes from gateway/routes.yml; the Ingress and the HTTPRoutes are
evaluated the way their controllers do, on sample paths made from that table.
"""
import posixpath
import re

ALWAYS_UNROUTED = (
    "/", "/flask", "/flask/", "/flask/api", "/flask/api/", "/api/users", "/api/articles",
    "/internal/users", "/internal/profiles", "/internal/following",
    "/flask/internal/users", "/flask/api/internal/users", "/healthz", "/flask/healthz",
    "/flask/api/users/../../internal/users",
)
# The API docs page (k8s/base/docs.yaml): not in gateway/routes.yml (the dev gateway
# serves it from files), reached in k8s on the docs Service with the path unchanged.
DOCS_PORT = 8080
DOCS_PATHS = ("/flask/api/docs", "/flask/api/docs/", "/flask/api/docs/index.html",
              "/flask/api/docs/openapi.yml", "/flask/api/docs/swagger-ui-bundle.js",
              "/flask/api/docs/swagger-ui.css", "/flask/api/docs/../docs/openapi.yml")
NOT_DOCS_PATHS = ("/flask/api/docsX", "/flask/api/doc", "/flask/api/docs-x", "/api/docs",
                  "/api/docs/", "/flask/docs/", "/docs/", "/flask/api/docs/../users/x")


def normalise(uri):
    """Resolve dot segments, as nginx and Gateway implementations do before matching."""
    path = posixpath.normpath(uri)
    path = "/" + path.lstrip("/")  # normpath keeps a leading "//"
    return path + "/" if uri.endswith("/") and path != "/" else path


def expected_route(table, path):
    """Return (service, upstream path) per the routing table, or None."""
    path = normalise(path)
    for route in table["routes"]:
        prefix = route["prefix"]
        if path == prefix or (route["subpaths"] and path.startswith(prefix + "/")):
            return route["service"], path[len(table["strip_prefix"]):]
    return None


def sample_paths(table):
    paths = set(ALWAYS_UNROUTED)
    for route in table["routes"]:
        prefix = route["prefix"]
        paths.update({prefix, prefix + "X", prefix + "-x", prefix + "/", prefix + "/some/thing",
                      prefix + "/login", prefix.replace("/flask", "", 1)})
    return sorted(paths)


def test_samples_cover_every_route_and_some_paths_that_must_not_match(routes):
    samples = sample_paths(routes)
    routed = {expected_route(routes, p)[0] for p in samples if expected_route(routes, p)}
    assert routed == {"auth", "profiles", "articles"}
    assert "/flask/api/usersX" in samples and expected_route(routes, "/flask/api/usersX") is None
    assert expected_route(routes, "/flask/api/userx") is None   # prefixX never matches
    assert expected_route(routes, "/flask/api/user/logout") == ("auth", "/api/user/logout")


# --- ingress-nginx ---------------------------------------------------------------

def ingress_locations(docs):
    """(path regex, rewrite target, service, port) per Ingress path, nginx class only."""
    locations = []
    for ingress in (d for d in docs if d["kind"] == "Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
        # None: the path goes upstream unchanged (the docs page).
        rewrite = annotations.get("nginx.ingress.kubernetes.io/rewrite-target")
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] == "ImplementationSpecific"
                backend = path["backend"]["service"]
                locations.append((path["path"], rewrite, backend["name"], backend["port"]))
    return locations


def nginx_route(locations, uri):
    """Evaluate like ingress-nginx with use-regex: each path becomes `location ~* "^PATH"`,
    longer paths first, first match wins; inside, `rewrite "(?i)PATH" TARGET break`."""
    uri = normalise(uri)
    for path, target, service, port in sorted(locations, key=lambda loc: -len(loc[0])):
        if re.match(path, uri, re.IGNORECASE):
            found = re.search(path, uri, re.IGNORECASE)
            if target is None:
                return service, port, uri
            upstream = re.sub(r"\$(\d)", lambda m: found.group(int(m.group(1))) or "", target)
            return service, port, upstream
    return None


def service_port(docs, name, port_ref):
    """The port number a backend reference means on the named Service."""
    service = next(d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == name)
    for port in service["spec"]["ports"]:
        if port_ref in ({"name": port.get("name")}, {"number": port["port"]}):
            return port["port"]
    raise AssertionError(f"Service {name} has no port {port_ref}")


def assert_routes_like_the_table(rendered, routes, route_of):
    """Every sample path goes where gateway/routes.yml says, or nowhere when it says so."""
    for uri in sample_paths(routes):
        got = route_of(uri)
        expected = expected_route(routes, uri)
        if expected is None:
            assert got is None, f"{uri} must not be routed, goes to {got}"
            continue
        assert got is not None, f"{uri} is not routed"
        service, port, upstream = got
        assert (service, upstream) == expected, uri
        assert service_port(rendered, service, port) == 8000


def test_ingress_routes_each_sample_path_like_the_routing_table(docs, routes, overlay):
    rendered = docs(overlay)
    locations = ingress_locations(rendered)
    assert locations
    assert_routes_like_the_table(rendered, routes, lambda uri: nginx_route(locations, uri))


# --- Gateway API -----------------------------------------------------------------

def gateway_matches(docs):
    """(match type, value, rewrite filter, backend ref) per HTTPRoute rule match."""
    gateways = {d["metadata"]["name"] for d in docs if d["kind"] == "Gateway"}
    matches = []
    for route in (d for d in docs if d["kind"] == "HTTPRoute"):
        assert {p["name"] for p in route["spec"]["parentRefs"]} <= gateways
        if {p.get("sectionName") for p in route["spec"]["parentRefs"]} == {"http"}:
            continue  # plain HTTP only redirects (test_tls.py)
        for rule in route["spec"]["rules"]:
            rewrites = [f["urlRewrite"]["path"] for f in rule.get("filters", [])
                        if f["type"] == "URLRewrite"]
            (backend,) = rule["backendRefs"]
            for match in rule["matches"]:
                path = match["path"]
                matches.append((path["type"], path["value"], rewrites, backend))
    return matches


def gateway_route(matches, uri):
    """Exact matches win over prefixes, longer prefixes over shorter (Gateway API spec);
    PathPrefix matches whole path elements only."""
    uri = normalise(uri)
    candidates = []
    for kind, value, rewrites, backend in matches:
        if kind == "Exact" and uri == value:
            candidates.append(((1, len(value)), value, rewrites, backend))
        elif kind == "PathPrefix" and (uri == value or uri.startswith(value.rstrip("/") + "/")):
            candidates.append(((0, len(value)), value, rewrites, backend))
    if not candidates:
        return None
    _, value, rewrites, backend = max(candidates, key=lambda c: c[0])
    upstream = uri
    for rewrite in rewrites:
        if rewrite["type"] == "ReplacePrefixMatch":
            upstream = rewrite["replacePrefixMatch"] + uri[len(value):]
        elif rewrite["type"] == "ReplaceFullPath":
            upstream = rewrite["replaceFullPath"]
    return backend["name"], {"number": backend["port"]}, upstream


def test_httproutes_route_each_sample_path_like_the_routing_table(docs, routes, gateway_target):
    rendered = docs(gateway_target)
    assert not [d for d in rendered if d["kind"] == "Ingress"], "the component replaces it"
    matches = gateway_matches(rendered)
    assert matches
    assert_routes_like_the_table(rendered, routes, lambda uri: gateway_route(matches, uri))


def test_prefix_rewrites_only_go_with_prefix_matches(docs, gateway_target):
    for kind, _, rewrites, _ in gateway_matches(docs(gateway_target)):
        for rewrite in rewrites:
            # The API rejects ReplacePrefixMatch on anything but a PathPrefix match.
            assert rewrite["type"] != "ReplacePrefixMatch" or kind == "PathPrefix"


def test_gateway_listens_for_https_and_http_on_an_nginx_gateway_class(docs, gateway_target):
    (gateway,) = [d for d in docs(gateway_target) if d["kind"] == "Gateway"]
    assert gateway["spec"]["gatewayClassName"] == "nginx"
    assert {(ln["name"], ln["protocol"], ln["port"]) for ln in gateway["spec"]["listeners"]} == {
        ("http", "HTTP", 80), ("https", "HTTPS", 443)}


# --- the API docs page ---------------------------------------------------------------

def assert_routes_the_docs_page(rendered, route_of):
    """Every docs path reaches the docs Service's port 8080 unchanged (the docs nginx
    serves /flask/api/docs/ itself, so the page's relative URLs resolve); look-alikes
    do not, and no API path lands there."""
    for uri in DOCS_PATHS:
        got = route_of(uri)
        assert got is not None, f"{uri} is not routed"
        service, port, upstream = got
        assert (service, upstream) == ("docs", normalise(uri)), uri
        assert service_port(rendered, service, port) == DOCS_PORT
    for uri in NOT_DOCS_PATHS:
        got = route_of(uri)
        assert got is None or got[0] != "docs", f"{uri} must not reach docs"


def test_ingress_routes_the_docs_page_to_docs_unchanged(docs, routes, overlay):
    rendered = docs(overlay)
    locations = ingress_locations(rendered)
    assert_routes_the_docs_page(rendered, lambda uri: nginx_route(locations, uri))
    for uri in sample_paths(routes):
        got = nginx_route(locations, uri)
        assert got is None or got[0] != "docs", uri


def test_httproute_routes_the_docs_page_to_docs_unchanged(docs, routes, gateway_target):
    rendered = docs(gateway_target)
    matches = gateway_matches(rendered)
    assert_routes_the_docs_page(rendered, lambda uri: gateway_route(matches, uri))
    for uri in sample_paths(routes):
        got = gateway_route(matches, uri)
        assert got is None or got[0] != "docs", uri

"""The same login and registration limits in k8s as in the nginx gateway (docs/security.md).

ingress-nginx applies rate-limit annotations to every path of the Ingress that carries
them, so login and registration each have an Ingress of their own; the controller
tries regex paths longest first, which decides which Ingress a request meets.
"""
import posixpath
import re

# gateway/README.md: LOGIN_RATE=10r/m LOGIN_BURST=10, REGISTER_RATE=5r/m REGISTER_BURST=5.
LIMITS = {"conduit-login": (10, 10), "conduit-register": (5, 5)}
LIMITED_PATHS = {
    "/flask/api/users/login": "conduit-login", "/flask/api/users/login/": "conduit-login",
    "/flask/api/users": "conduit-register", "/flask/api/users/": "conduit-register",
}
FREE_PATHS = ("/flask/api/user", "/flask/api/users/loginX", "/flask/api/users/x",
              "/flask/api/profiles/x", "/flask/api/articles", "/flask/api/tags")
# The API docs page has an Ingress of its own: no limit, no rewrite (test_routing.py).
DOCS_PATHS = ("/flask/api/docs", "/flask/api/docs/", "/flask/api/docs/openapi.yml")


def normalise(uri):
    path = "/" + posixpath.normpath(uri).lstrip("/")
    return path + "/" if uri.endswith("/") and path != "/" else path


def ingress_of(rendered, uri):
    """The Ingress whose path ingress-nginx matches first (longest regex first)."""
    paths = [(p["path"], ing["metadata"]["name"]) for ing in rendered if ing["kind"] == "Ingress"
             for rule in ing["spec"]["rules"] for p in rule["http"]["paths"]]
    for path, name in sorted(paths, key=lambda p: -len(p[0])):
        if re.match(path, normalise(uri), re.IGNORECASE):
            return name
    return None


def test_login_and_registration_have_their_limits_and_nothing_else_does(docs, overlay):
    rendered = docs(overlay)
    for ingress in (d for d in rendered if d["kind"] == "Ingress"):
        notes = ingress["metadata"]["annotations"]
        name = ingress["metadata"]["name"]
        limit = {k.rsplit("/", 1)[1]: v for k, v in notes.items() if "/limit-" in k}
        if name in LIMITS:
            rpm, burst = LIMITS[name]
            assert limit == {"limit-rpm": str(rpm),
                             "limit-burst-multiplier": str(burst // rpm)}, name
        else:
            assert limit == {}, name
        # Same routing annotations everywhere: one host, one regex behaviour; the API
        # paths drop /flask, the docs page keeps its path.
        assert notes["nginx.ingress.kubernetes.io/use-regex"] == "true"
        rewrite = notes.get("nginx.ingress.kubernetes.io/rewrite-target")
        assert rewrite == (None if name == "conduit-docs" else "$1"), name


def test_each_limited_path_meets_its_own_ingress_and_no_other_path_does(docs, overlay):
    rendered = docs(overlay)
    for uri, name in LIMITED_PATHS.items():
        assert ingress_of(rendered, uri) == name, uri
    for uri in FREE_PATHS:
        assert ingress_of(rendered, uri) == "conduit", uri
    for uri in DOCS_PATHS:
        assert ingress_of(rendered, uri) == "conduit-docs", uri


def test_gateway_api_has_separate_login_and_registration_routes(docs, gateway_target):
    """Where NGINX Gateway Fabric's RateLimitPolicy would attach (docs/security.md)."""
    routes = {d["metadata"]["name"]: d for d in docs(gateway_target) if d["kind"] == "HTTPRoute"}
    exact = {m["path"]["value"] for m in
             (m for r in routes["auth-login"]["spec"]["rules"] for m in r["matches"])}
    assert exact == {"/flask/api/users/login", "/flask/api/users/login/"}
    exact = {m["path"]["value"] for m in
             (m for r in routes["auth-register"]["spec"]["rules"] for m in r["matches"])}
    assert exact == {"/flask/api/users", "/flask/api/users/"}

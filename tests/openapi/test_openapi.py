"""docs/openapi.yml is a valid OpenAPI 3.1 document and matches the services' routes.

The services are built with their own `create_app` (settings from a fake environment:
nothing connects anywhere) and their Falcon routes are enumerated with the public
`falcon.inspect` API. The gateway strips `/flask`, so the document's path `/users`
(server `.../flask/api`) is the service route `/api/users`.
"""
import importlib
import re
from pathlib import Path

import pytest
import yaml
from falcon import inspect as falcon_inspect
from openapi_spec_validator import validate

from conduit_common.testing.keys import service_env

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.yml"
GATEWAY_ROUTES = ROOT / "gateway" / "routes.yml"
SERVICES = ("auth", "profiles", "articles")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Routes every service has that clients never see (the gateway does not route them).
NOT_PUBLIC = re.compile(r"^/(healthz|readyz|metrics|internal(/.*)?)$")
FAKE_ENV = {
    **service_env("auth"),
    "DATABASE_URL": "postgresql+psycopg://nobody:nothing@127.0.0.1:9/conduit",
    "AUTH_SERVICE_URL": "http://127.0.0.1:9",
    "PROFILES_SERVICE_URL": "http://127.0.0.1:9",
    "LOG_LEVEL": "WARNING",
}
ERROR_STATUSES = {"400", "401", "403", "404", "413", "422", "429", "503"}


def normalise(path: str) -> str:
    """`/api/articles/{slug}/comments/{id:int}` -> `/api/articles/{}/comments/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def api_prefix(document) -> str:
    """The path the services route under: the server URL's path minus the gateway's prefix."""
    strip = yaml.safe_load(GATEWAY_ROUTES.read_text())["strip_prefix"]
    server_path = re.sub(r"^https?://[^/]+", "", document["servers"][0]["url"])
    assert server_path.startswith(strip), (server_path, strip)
    return server_path[len(strip):]


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method.upper(), operation


def documented_routes(document, api_prefix) -> set[tuple[str, str]]:
    return {(method, normalise(api_prefix + path)) for path, method, _ in operations(document)}


def build_app(service: str):
    app_module = importlib.import_module(f"conduit_{service}.app")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FAKE_ENV.items():
            patch.setenv(name, value)
        return app_module.create_app()


@pytest.fixture(scope="module")
def service_routes() -> dict[str, set[tuple[str, str]]]:
    """{service: {(METHOD, normalised path)}} of the public routes each app serves."""
    routes = {}
    for service in SERVICES:
        app = build_app(service)
        found = set()
        for route in falcon_inspect.inspect_app(app).routes:
            if NOT_PUBLIC.match(route.path):
                continue
            for method in route.methods:
                if not method.internal:
                    found.add((method.method, normalise(route.path)))
        routes[service] = found
    return routes


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_server_is_the_gateway(document):
    assert document["servers"][0]["url"] == "http://localhost:8080/flask/api"


def test_every_documented_route_is_served(document, api_prefix, service_routes):
    served = set().union(*service_routes.values())
    missing = documented_routes(document, api_prefix) - served
    assert not missing, f"documented but no service routes them: {sorted(missing)}"


def test_every_served_route_is_documented(document, api_prefix, service_routes):
    served = set().union(*service_routes.values())
    undocumented = served - documented_routes(document, api_prefix)
    assert not undocumented, f"served but missing from docs/openapi.yml: {sorted(undocumented)}"


def test_no_route_is_served_twice(service_routes):
    seen: dict[tuple[str, str], str] = {}
    for service, routes in service_routes.items():
        for route in routes:
            assert route not in seen, f"{route} served by {seen[route]} and {service}"
            seen[route] = service


def owner_by_gateway(public_path: str, table: dict) -> str | None:
    for rule in table["routes"]:
        prefix = rule["prefix"]
        if public_path == prefix or (rule["subpaths"] and public_path.startswith(prefix + "/")):
            return rule["service"]
    return None


def test_gateway_sends_each_documented_path_to_the_service_that_serves_it(
        document, api_prefix, service_routes):
    table = yaml.safe_load(GATEWAY_ROUTES.read_text())
    server_path = re.sub(r"^https?://[^/]+", "", document["servers"][0]["url"])
    for path, method, _ in operations(document):
        owner = owner_by_gateway(server_path + path, table)
        assert owner is not None, f"{server_path + path} is not routed by the gateway"
        route = (method, normalise(api_prefix + path))
        assert route in service_routes[owner], f"{method} {path}: gateway sends it to {owner}"


def resolve(document, node: dict) -> dict:
    while "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_errors_use_the_one_error_shape(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status not in ERROR_STATUSES:
                continue
            schema = resolve(document, response)["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Errors"}, (method, path, status)


def test_protected_operations_declare_401_and_the_token_scheme(document):
    scheme = document["components"]["securitySchemes"]["Token"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}
    for path, method, operation in operations(document):
        if any("Token" in requirement for requirement in operation.get("security", [])):
            assert "401" in operation["responses"], (method, path)


def test_login_is_rate_limited(document):
    assert "429" in document["paths"]["/users/login"]["post"]["responses"]


def test_deletes_of_articles_and_comments_answer_204_without_body(document):
    for path in ("/articles/{slug}", "/articles/{slug}/comments/{id}"):
        responses = document["paths"][path]["delete"]["responses"]
        assert "204" in responses and "200" not in responses
        assert "content" not in resolve(document, responses["204"])


def test_pagination_bounds(document):
    parameters = document["components"]["parameters"]
    assert parameters["Limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100,
                                             "default": 20}
    assert parameters["Offset"]["schema"]["minimum"] == 0
    for path in ("/articles", "/articles/feed"):
        refs = {p.get("$ref") for p in document["paths"][path]["get"]["parameters"]}
        assert {"#/components/parameters/Limit", "#/components/parameters/Offset"} <= refs

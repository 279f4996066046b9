"""ingress-nginx's own 502/503/504 in the RealWorld error shape: the API Ingresses hand
them to the `errors` Service (k8s/base/errors.yaml), whose nginx (errors.nginx.conf,
run here with the real nginx binary) answers 503 {"errors":{"body":[...]}}.
"""
import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONF = ROOT / "k8s" / "base" / "errors.nginx.conf"
SERVICES = ("auth", "profiles", "articles")
ANNOTATION = "nginx.ingress.kubernetes.io/"
ERROR_SHAPE = {"errors": {"body": ["service unavailable"]}}


def by_kind(rendered, kind):
    return {d["metadata"]["name"]: d for d in rendered if d["kind"] == kind}


def backends(ingress):
    return {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
            for p in rule["http"]["paths"]}


def api_ingresses(rendered):
    return {name: i for name, i in by_kind(rendered, "Ingress").items()
            if backends(i) & set(SERVICES)}


def test_every_api_ingress_sends_the_controllers_5xx_to_the_error_backend(docs, target):
    rendered = docs(target)
    ingresses = api_ingresses(rendered)
    if target.endswith("gateway-api"):
        # The Gateway API route replaces the Ingresses and has no such hook.
        assert not ingresses
        return
    assert set(ingresses) == {"conduit", "conduit-login", "conduit-register"}
    for name, ingress in ingresses.items():
        annotations = ingress["metadata"]["annotations"]
        codes = {int(c) for c in annotations[ANNOTATION + "custom-http-errors"].split(",")}
        # The timeouts and unavailability the controller makes; never a 4xx, whose
        # bodies the services write themselves (404 article not found, 422, ...).
        assert codes == {502, 503, 504}, name
        assert annotations[ANNOTATION + "default-backend"] == "errors", name


def test_the_error_backend_service_reaches_its_nginx(docs, target):
    rendered = docs(target)
    if target.endswith("gateway-api"):
        return
    service = by_kind(rendered, "Service")["errors"]
    # ingress-nginx's default-backend annotation takes the Service's first port.
    (port,) = service["spec"]["ports"]
    deployment = by_kind(rendered, "Deployment")["errors"]
    template = deployment["spec"]["template"]
    assert service["spec"]["selector"] == {"app": "errors"}
    assert template["metadata"]["labels"]["app"] == "errors"
    (app,) = template["spec"]["containers"]
    assert {p["name"]: p["containerPort"] for p in app["ports"]} == {"http": 8080}
    assert port["targetPort"] == "http" and port["port"] == 8080
    assert "listen 8080;" in CONF.read_text()


def test_the_error_backend_runs_stock_nginx_with_the_committed_config(docs, target):
    rendered = docs(target)
    if target.endswith("gateway-api"):
        return
    spec = by_kind(rendered, "Deployment")["errors"]["spec"]["template"]["spec"]
    (app,) = spec["containers"]
    # Pinned like docker/docs.Dockerfile's base, so it runs here and on a Docker host.
    assert app["image"] == "nginx:1.27"
    command = app["command"]
    assert command[0] == "nginx" and "-c" in command
    config_path = pathlib.PurePosixPath(command[command.index("-c") + 1])
    mount = next(m for m in app["volumeMounts"]
                 if m["mountPath"] == str(config_path.parent))
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    (item,) = volume["configMap"]["items"]
    assert item["path"] == config_path.name
    configmap = by_kind(rendered, "ConfigMap")[volume["configMap"]["name"]]
    assert configmap["data"][item["key"]] == CONF.read_text()
    for probe in ("readinessProbe", "livenessProbe"):
        assert app[probe]["httpGet"] == {"path": "/healthz", "port": "http"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def error_backend(tmp_path_factory):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                      else None)
    if not nginx:
        pytest.skip("nginx is not installed (Debian nginx-light)")
    work = tmp_path_factory.mktemp("errors-nginx")
    work.chmod(0o755)
    port = free_port()
    # The pod's paths and port, moved to this machine's temp dir and a free port.
    text = CONF.read_text().replace("/tmp/", f"{work}/").replace(
        "listen 8080;", f"listen 127.0.0.1:{port};")
    assert f"127.0.0.1:{port}" in text
    conf = work / "nginx.conf"
    conf.write_text(text)
    log = (work / "stderr").open("w")
    process = subprocess.Popen([nginx, "-e", "stderr", "-p", f"{work}/", "-c", str(conf)],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("nginx did not start: " + (work / "stderr").read_text())
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.mark.parametrize("code", ["502", "503", "504"])
def test_an_intercepted_error_becomes_503_in_the_error_shape(error_backend, code):
    # What ingress-nginx sends for custom-http-errors: GET / with the original status.
    response = requests.get(f"{error_backend}/", timeout=5, headers={
        "X-Code": code, "X-Original-URI": "/flask/api/articles", "X-Format": "*/*",
        "X-Request-ID": "req-1234"})
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == ERROR_SHAPE
    # The controller's request id, so the client's answer matches the logs.
    assert response.headers["X-Request-ID"] == "req-1234"


def test_a_request_for_a_service_without_endpoints_gets_503_in_the_error_shape(error_backend):
    # default-backend: the client's own request, rewritten as the Ingress does.
    response = requests.post(f"{error_backend}/api/articles", timeout=5,
                             json={"article": {"title": "t"}})
    assert response.status_code == 503
    assert response.json() == ERROR_SHAPE


def test_the_probe_path_answers_200(error_backend):
    response = requests.get(f"{error_backend}/healthz", timeout=5)
    assert response.status_code == 200 and response.text == "ok\n"

"""The `docs` image (docker/docs.Dockerfile): the API docs page for Kubernetes.

Static checks (what the page loads is what the image copies, the build context lets
exactly those files in, nginx writes only under /tmp and listens on 8080) and the
image's own nginx configuration run by this host's nginx on the same files, the way
the ingress controllers reach it: /flask/api/docs/... with the path unchanged.
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "docs.Dockerfile"
NGINX_CONF = ROOT / "docker" / "docs.nginx.conf"
PAGE = ROOT / "gateway" / "docs" / "index.html"
SITE = "/usr/share/nginx/conduit-docs/"


def copied_files():
    """Source path -> destination of the multi-source COPY into the site directory."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and words[-1] == SITE:
            return {src: SITE + Path(src).name for src in words[1:-1]}
    raise AssertionError(f"no COPY into {SITE}")


class References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def page_references():
    parser = References()
    text = PAGE.read_text()
    parser.feed(text)
    # SwaggerUIBundle({url: "openapi.yml", ...})
    return parser.urls + re.findall(r'\burl:\s*"([^"]+)"', text)


def test_the_page_loads_only_relative_urls_that_the_image_holds():
    names = {Path(dest).name for dest in copied_files().values()}
    references = page_references()
    assert {"swagger-ui.css", "swagger-ui-bundle.js", "openapi.yml"} <= set(references)
    for url in references:
        # Relative to /flask/api/docs/: right behind the dev gateway, the Ingress and
        # the HTTPRoute alike, as long as they pass the path on unchanged.
        assert not re.match(r"^([a-z]+:|/)", url), url
        assert url in names, f"{url} is not copied into the image"
    assert "index.html" in names


def test_the_image_copies_pinned_swagger_ui_files_and_the_build_context_has_them():
    sources = set(copied_files())
    assert sources == {"gateway/docs/index.html", "docs/openapi.yml",
                       "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
                       "node_modules/swagger-ui-dist/swagger-ui.css"}
    rules = (ROOT / ".dockerignore").read_text().splitlines()
    for source in sources | {"docker/docs.nginx.conf"}:
        assert f"!{source}" in rules or f"!{source.split('/')[0]}" in rules, source


def test_the_image_runs_nginx_unprivileged_on_8080():
    text = DOCKERFILE.read_text()
    assert text.startswith("# ") and "\nFROM nginx:1.27\n" in text
    assert "\nUSER 101:101\n" in text and "\nEXPOSE 8080\n" in text
    assert "COPY docker/docs.nginx.conf /etc/nginx/nginx.conf" in text
    assert 'ENTRYPOINT ["nginx", "-e", "stderr"]' in text
    conf = NGINX_CONF.read_text()
    assert re.search(r"^\s*listen 8080;", conf, re.M)
    assert not re.search(r"^\s*user\s", conf, re.M)
    # Everything nginx writes, under /tmp (an emptyDir on a read-only root filesystem).
    assert re.search(r"^pid /tmp/", conf, re.M)
    temp_paths = re.findall(r"^\s*(\w+_temp_path) (\S+);", conf, re.M)
    assert {name for name, _ in temp_paths} == {
        "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
        "uwsgi_temp_path", "scgi_temp_path"}
    assert all(path.startswith("/tmp/") for _, path in temp_paths)
    assert f"alias {SITE};" in conf


# --- the image's nginx configuration, run here ------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def docs_server():
    """nginx with docker/docs.nginx.conf on the image's files; a non-root user, as in
    the pod (nobody when the tests run as root)."""
    nginx = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path(
        "/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (make run installs nginx-light)")
    bundle = ROOT / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js"
    if not bundle.exists():
        pytest.fail("node_modules/swagger-ui-dist is missing: run `make install` (npm ci)")
    root = Path(tempfile.mkdtemp(prefix="conduit-docs-"))
    try:
        site, tmp = root / "site", root / "tmp"
        site.mkdir()
        tmp.mkdir()
        for source, dest in copied_files().items():
            shutil.copy(ROOT / source, site / Path(dest).name)
        port = free_port()
        # /tmp first: the replacements live under /tmp themselves.
        conf = (NGINX_CONF.read_text().replace("/tmp/", f"{tmp}/").replace(SITE, f"{site}/")
                .replace("listen 8080;", f"listen 127.0.0.1:{port};"))
        (root / "nginx.conf").write_text(conf)
        command = [str(nginx), "-p", f"{root}/", "-c", str(root / "nginx.conf"), "-e", "stderr"]
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(tmp, nobody.pw_uid, nobody.pw_gid)
            for path in [root, site, *site.iterdir()]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            command = ["runuser", "-u", "nobody", "--", *command]
        log = root / "nginx.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    pytest.fail("nginx did not start: " + log.read_text())
                time.sleep(0.1)
        yield base
        process.terminate()
        process.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_docs_nginx_serves_the_page_its_assets_and_the_document(docs_server):
    status, headers, body = fetch(docs_server + "/flask/api/docs/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"swagger-ui-bundle.js" in body
    expected = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "application/javascript",
                "openapi.yml": "application/yaml"}
    for name, content_type in expected.items():
        status, headers, body = fetch(f"{docs_server}/flask/api/docs/{name}")
        assert status == 200 and headers["Content-Type"].startswith(content_type), name
    assert body == (ROOT / "docs" / "openapi.yml").read_bytes()


def test_docs_nginx_redirects_to_the_slash_form_relatively(docs_server):
    """Relative Location: right behind any host, port and TLS terminator."""
    status, headers, _ = fetch(docs_server + "/flask/api/docs")
    assert (status, headers["Location"]) == (301, "/flask/api/docs/")


def test_docs_nginx_serves_nothing_else(docs_server):
    for path in ("/", "/flask/api/docsX", "/flask/api/users", "/docs/", "/api/docs/"):
        assert fetch(docs_server + path)[0] == 404, path
    assert fetch(docs_server + "/healthz")[0] == 200

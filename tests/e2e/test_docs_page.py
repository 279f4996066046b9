"""The API docs page (/flask/api/docs/) in headless Chromium: it loads docs/openapi.yml,
and "Try it out" -> "Execute" on GET /tags calls the same origin and shows the answer.
Drives Debian's chromium over the DevTools protocol (websocket-client); skipped when
chromium cannot be had (apt-get install chromium, as root, is tried first)."""
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

websocket = pytest.importorskip("websocket")


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


class Page:
    """One tab over the DevTools protocol: evaluate JavaScript, wait for conditions."""

    def __init__(self, ws_url: str):
        self._ws = websocket.create_connection(ws_url, timeout=30)
        self._id = 0

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == self._id:
                assert "error" not in message, message
                return message["result"]

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"not true within {timeout} s: {expression}\n"
                             f"{self.js('document.body.innerText')[:2000]}")

    def close(self):
        self._ws.close()


@pytest.fixture
def browser():
    binary = _chromium()
    profile = Path(tempfile.mkdtemp(prefix="conduit-chromium-"))
    process = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage", f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert process.poll() is None and time.monotonic() < deadline, "chromium did not start"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
        page = Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        yield page
        page.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_the_docs_page_runs_get_tags_against_the_same_origin(stack, api, browser):
    author = api.register("docs")
    api.create_article(author, tagList=["swaggertag"])
    docs_url = stack.api_url + "/docs/"
    assert requests.get(stack.api_url + "/docs", allow_redirects=False,
                        timeout=5).headers["Location"] == "/flask/api/docs/"

    browser.call("Page.enable")
    browser.call("Page.navigate", url=docs_url)
    summary = ("[...document.querySelectorAll('.opblock-summary-path')]"
               ".find(e => e.textContent.trim() === '/tags')")
    browser.wait(f"!!({summary})")
    # the servers dropdown offers the page's own origin, not localhost:8080
    assert browser.wait("document.querySelector('.servers select')?.value") == "/flask/api"
    browser.js(f"({summary}).closest('.opblock-summary').querySelector('button').click()")
    browser.wait("!!document.querySelector('.opblock.is-open .try-out__btn')")
    browser.js("document.querySelector('.opblock.is-open .try-out__btn').click()")
    browser.wait("!!document.querySelector('.opblock.is-open .execute')")
    browser.js("document.querySelector('.opblock.is-open .execute').click()")
    status = browser.wait(
        "document.querySelector('.opblock.is-open .live-responses-table tbody "
        ".response-col_status')?.textContent.trim()")
    assert status == "200"
    body = browser.wait("document.querySelector('.opblock.is-open .live-responses-table "
                        "tbody .response-col_description pre')?.textContent")
    assert "swaggertag" in body
    url = browser.wait("document.querySelector('.opblock.is-open .request-url pre')?.textContent")
    assert url.startswith(stack.api_url.rsplit("/flask", 1)[0]), url

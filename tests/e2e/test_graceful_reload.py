"""A service restarting under traffic (gunicorn's graceful reload, SIGHUP: new workers
start, the old ones finish what they hold and stop) costs the clients nothing: no 5xx
and no reset connection through the gateway."""
import os
import signal
import threading
import time
from pathlib import Path

import requests


def _workers(master: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def _traffic(api_url, paths, stop, results):
    with requests.Session() as session:
        while not stop.is_set():
            for path in paths:
                try:
                    results.append(session.get(api_url + path, timeout=10).status_code)
                except requests.RequestException as ex:   # a reset, a refused connection
                    results.append(repr(ex))


def test_a_graceful_reload_under_traffic_loses_no_request(local_stack, api):
    article = api.create_article(api.register("reload"))
    paths = ["/tags", "/articles?limit=2", f"/articles/{article['slug']}"]
    master = local_stack.pid("articles")
    old = _workers(master)
    stop, results = threading.Event(), []
    clients = [threading.Thread(target=_traffic, args=(api.api_url, paths, stop, results))
               for _ in range(3)]
    for client in clients:
        client.start()
    try:
        time.sleep(0.5)   # traffic flowing on kept-alive connections before the reload
        before = len(results)
        os.kill(master, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            current = _workers(master)
            if current and not current & old and len(current) == len(old):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"old workers {old} still there: {_workers(master)}")
        local_stack.wait_ready("articles")
        settled = len(results)
        time.sleep(0.5)
    finally:
        stop.set()
        for client in clients:
            client.join()
    failures = [r for r in results if not (isinstance(r, int) and r < 500)]
    assert not failures, failures[:5]
    assert before > 0 and settled > before and len(results) > settled

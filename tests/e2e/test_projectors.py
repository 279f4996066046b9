"""The projector processes: restarted when they crash, never in the owners' way."""
import os
import signal
import time
from pathlib import Path

import requests


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def ready(local_stack, name: str) -> bool:
    try:
        return requests.get(local_stack.specs[name].ready_url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_a_killed_projector_worker_is_restarted_and_catches_up(local_stack, api):
    supervisor = local_stack.pid("articles-projector")
    [worker] = children(supervisor)

    os.kill(worker, signal.SIGKILL)
    author = api.register("crash")             # published while the worker is gone
    restarted = wait_for(lambda: [c for c in children(supervisor) if c != worker], 15,
                         "a new projector worker")
    wait_for(lambda: ready(local_stack, "articles-projector"), 15, "the projector's /readyz")

    assert restarted
    article = api.create_article(author)
    assert article["author"]["username"] == author.username


def test_a_stopped_projector_does_not_stop_the_owners_writes(local_stack, api):
    author, reader = api.register("stopped"), api.register("stopped")
    article = api.create_article(author)
    local_stack.stop("articles-projector")
    try:
        started = time.monotonic()
        followed = api.request("POST", f"/profiles/{author.username}/follow", reader.token)
        elapsed = time.monotonic() - started
        assert followed.status_code == 200
        # At most the bounded read-your-writes wait (0.25 s) on top of the write itself.
        assert elapsed < 2.0, elapsed
    finally:
        local_stack.start("articles-projector")
        local_stack.wait_ready("articles-projector")

    # The follow made while it was down reaches the feed once it is back.
    feed = wait_for(lambda: api.request("GET", "/articles/feed", reader.token).json()
                    ["articlesCount"] == 1, 15, "the follow in the feed")
    assert feed
    assert api.request("GET", f"/articles/{article['slug']}",
                       reader.token).json()["article"]["author"]["following"] is True

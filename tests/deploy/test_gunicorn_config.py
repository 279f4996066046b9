"""Each image's gunicorn.conf.py: how many workers it starts and which serve what.

The event owners (auth, profiles) run one worker more than WEB_CONCURRENCY, which alone
serves the internal port (conduit_common.gunicorn_worker); articles, whose internal port
only serves /metrics, does not. The connection budget and the pods' CPU and memory
requests count on this.
"""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")

DEDICATED = {"auth": True, "profiles": True, "articles": False}

# Load the file the way gunicorn does (exec as a module), in a process of its own: it
# sets environment variables.
PRINT_SETTINGS = """
import json, os, runpy, sys
settings = runpy.run_path(sys.argv[1])
print(json.dumps({"workers": settings["workers"], "bind": settings["bind"],
                  "threads": settings["threads"],
                  "internal_worker": os.environ.get("INTERNAL_WORKER")}))
"""


def settings(service: str, **env) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS, str(ROOT / f"services/{service}/gunicorn.conf.py")],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path), **env},
        capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("service", SERVICES)
def test_the_owners_start_one_internal_worker_beside_web_concurrency(service):
    found = settings(service, WEB_CONCURRENCY="2", INTERNAL_PORT="9000", PORT="8000")

    assert found["workers"] == 2 + DEDICATED[service]
    assert found["bind"] == ["0.0.0.0:8000", "0.0.0.0:9000"]


@pytest.mark.parametrize("service", ["auth", "profiles"])
def test_an_operator_can_share_the_workers_again(service):
    found = settings(service, WEB_CONCURRENCY="2", INTERNAL_PORT="9000",
                     INTERNAL_WORKER="shared")

    assert (found["workers"], found["internal_worker"]) == (2, "shared")


def test_without_an_internal_port_there_is_no_internal_worker():
    assert settings("auth", WEB_CONCURRENCY="2")["workers"] == 2


def test_articles_runs_four_public_threads_and_the_owners_two():
    found = {service: settings(service)["threads"] for service in SERVICES}
    assert found == {"auth": 2, "profiles": 2, "articles": 4}


@pytest.mark.parametrize("service", SERVICES)
def test_gunicorn_threads_sets_every_services_threads(service):
    assert settings(service, GUNICORN_THREADS="3")["threads"] == 3

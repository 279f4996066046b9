"""The gunicorn master imports the libraries the workers need, and nothing else: none of
the services' code (a graceful reload must pick up its changes), no thread, and not
prometheus_client (its multiprocess mode is set up after)."""
import json
import subprocess
import sys

SERVICES = ("conduit_auth", "conduit_profiles", "conduit_articles")
# Run in a fresh interpreter, never in this one (importing gunicorn_defaults sets up
# prometheus_client's multiprocess mode for the whole process): what the master has
# after reading its config, then what the three apps still import on top of that (as a
# worker does after the fork).
PROBE = """
import json, sys, threading
from conduit_common.gunicorn_defaults import PRELOADED_LIBRARIES
master = sorted(sys.modules)
threads = threading.active_count()
import conduit_auth.app, conduit_profiles.app, conduit_articles.app
print(json.dumps({"preloaded": PRELOADED_LIBRARIES, "master": master, "threads": threads,
                  "worker": sorted(set(sys.modules) - set(master))}))
"""


def probe(tmp_path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_the_master_holds_the_libraries_and_none_of_the_services_code(tmp_path):
    found = probe(tmp_path)
    assert found["preloaded"] and set(found["preloaded"]) <= set(found["master"])
    assert not [name for name in found["master"] if name.startswith(SERVICES)]
    assert "prometheus_client" not in found["master"]
    assert found["threads"] == 1


def test_a_worker_imports_nothing_more_of_the_preloaded_libraries(tmp_path):
    found = probe(tmp_path)
    packages = {name.split(".")[0] for name in found["preloaded"]}
    assert [name for name in found["worker"] if name.split(".")[0] in packages] == []
    assert [name for name in found["worker"] if name.startswith(SERVICES)]   # the apps did load

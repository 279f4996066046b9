"""`make run` (python -m conduit_dev run) keeps the stack up: a service killed with -9
is restarted and answers again within 15 s, the rest stays up; SIGINT (Ctrl-C) still
stops every process it started. Its own stack on free ports and a temporary RUN_DIR.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conduit_common.testing.postgres import free_port
from conduit_dev.config import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[2]
READY = "Conduit is ready"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def _descendants(pid: int) -> set[int]:
    seen, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s; output:\n{log.read_text()[-4000:]}")


@pytest.fixture
def make_run():
    if shutil.which("nginx") is None and os.geteuid() != 0:
        pytest.skip("nginx is not installed")
    run_dir = Path(tempfile.mkdtemp(prefix="conduit-supervision-"))
    run_dir.chmod(0o755)
    env = {**os.environ, "CONDUIT_RUN_DIR": str(run_dir / "run"), "PGPORT": str(free_port()),
           "PYTHONPATH": str(ROOT / "tools"), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    env.update({f"{name.upper()}_PORT": str(free_port()) for name in DEFAULT_PORTS})
    log = run_dir / "make-run.log"
    with open(log, "wb") as out:
        launcher = subprocess.Popen([sys.executable, "-m", "conduit_dev", "run"], cwd=ROOT,
                                    env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
    api = f"http://127.0.0.1:{env['GATEWAY_PORT']}/flask/api"
    try:
        yield launcher, api, log
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGINT)
            try:
                launcher.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(launcher.pid, signal.SIGKILL)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_a_killed_service_comes_back_and_ctrl_c_stops_everything(make_run):
    launcher, api, log = make_run
    _wait_for(lambda: READY in log.read_text() or launcher.poll() is not None, 120,
              "the ready banner", log)
    assert launcher.poll() is None, log.read_text()[-4000:]
    assert requests.get(f"{api}/profiles/nobody", timeout=5).status_code == 404

    masters = [p for p in _children(launcher.pid) if "conduit_profiles.wsgi" in _cmdline(p)]
    assert len(masters) == 1, [_cmdline(p) for p in _children(launcher.pid)]
    (master,) = masters
    workers = _descendants(master)
    assert workers
    killed_at = time.monotonic()
    os.killpg(os.getpgid(master), signal.SIGKILL)   # the master and its workers

    def profiles_answers():
        try:   # 503 from the gateway while it is down; profiles' own 404 when back
            return requests.get(f"{api}/profiles/nobody", timeout=2).status_code == 404
        except requests.RequestException:
            return False
    _wait_for(profiles_answers, 15, "profiles answering again", log)
    assert time.monotonic() - killed_at < 15
    text = log.read_text()
    assert "profiles exited (signal 9); restarting" in text, text[-3000:]
    assert not any(_alive(p) for p in workers | {master})
    # The rest stayed up all along (the gateway and the other services kept their pids).
    assert requests.get(f"{api}/tags", timeout=5).status_code == 200

    everything = _descendants(launcher.pid)
    pg_pid_file = next((log.parent / "run" / "pg").glob("**/postmaster.pid"), None)
    assert pg_pid_file is not None
    everything.add(int(pg_pid_file.read_text().split()[0]))
    os.kill(launcher.pid, signal.SIGINT)
    assert launcher.wait(timeout=60) == 0, log.read_text()[-3000:]
    _wait_for(lambda: not [p for p in everything if _alive(p)], 10,
              "every process of the stack gone", log)

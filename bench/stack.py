"""Start and stop the whole stack with the same launcher `make run` uses.

The launcher owns everything (Postgres, migrations, gunicorn, nginx); the bench
only chooses free ports, worker settings and a state directory of its own
through the environment, waits for the gateway, and stops the launcher the way
a person does: Ctrl-C (SIGINT to its process group).
"""
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from conduit_common.testing.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from conduit_dev.config import DEFAULT_PORTS  # noqa: E402

# Every port the launcher would otherwise take from its defaults, so a bench runs
# beside a developer's `make run` (a hand-kept list once missed the internal ports).
PORT_VARIABLES = ("PGPORT", *(f"{name.upper()}_PORT" for name in DEFAULT_PORTS))


def launcher_command() -> list[str]:
    """BENCH_LAUNCHER overrides; by default exactly what a person types."""
    return shlex.split(os.environ.get("BENCH_LAUNCHER", "make --no-print-directory run"))


class Stack:
    def __init__(self, env: dict[str, str], log_path: Path, label: str):
        self.env = env
        self.log_path = log_path
        self.label = label
        self.process: subprocess.Popen | None = None
        self.gateway_port = int(env["GATEWAY_PORT"])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}/flask/api"

    @classmethod
    def with_free_ports(cls, settings: dict[str, str], state_dir: Path, log_path: Path,
                        label: str) -> "Stack":
        env = {name: str(free_port()) for name in PORT_VARIABLES}
        env.update(settings)
        # the launcher's state directory (data, secret, nginx config): ours, not .run/
        env["CONDUIT_RUN_DIR"] = env["RUN_DIR"] = str(state_dir)
        # The bench owns its Postgres cluster: never seed into a developer's DATABASE_URL.
        env["DATABASE_URL"] = ""
        return cls(env, log_path, label)

    def start(self, timeout: float = 240.0) -> "Stack":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        env = {**os.environ, **self.env}
        if not env.get("DATABASE_URL"):
            env.pop("DATABASE_URL", None)
        print(f"starting the stack ({self.label}): {' '.join(launcher_command())}, "
              f"gateway port {self.gateway_port}, log {self.log_path}", flush=True)
        self.process = subprocess.Popen(launcher_command(), cwd=ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        log.close()
        self._wait_ready(timeout)
        return self

    def _ready_urls(self) -> list[str]:
        """The API through the gateway, and each projector's readiness: until the
        projectors poll their owners, writes do not wait for them (read-your-writes
        only waits for live consumers), and the seed would race its own events."""
        urls = [f"{self.api_url}/tags"]
        for service in ("PROFILES", "ARTICLES"):
            port = self.env.get(f"{service}_PROJECTOR_PORT")
            if port:
                urls.append(f"http://127.0.0.1:{port}/readyz")
        return urls

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        url = f"{self.api_url}/tags"
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the launcher exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:
                if all(requests.get(u, timeout=2).status_code == 200
                       for u in self._ready_urls()):
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s; "
                                   f"see {self.log_path}")
            time.sleep(0.5)

    def stop(self) -> None:
        """Ctrl-C first (the launcher must clean up), then TERM, then KILL the group."""
        if self.process is None or self.process.poll() is not None:
            return
        group = os.getpgid(self.process.pid)
        for sig, wait in ((signal.SIGINT, 40), (signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait)
                # the launcher is gone; give its children the same chance
                time.sleep(1)
                os.killpg(group, 0)
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                return
            if sig is signal.SIGKILL:
                return
        print(f"warning: processes of the launcher group {group} survived", flush=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class RunningStack:
    """A stack someone else started (bench --url): nothing to start or stop."""

    def __init__(self, api_url: str):
        self.api_url = api_url.rstrip("/")
        self.label = "external"

    def start(self):
        return self

    def stop(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

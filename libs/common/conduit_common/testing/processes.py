"""Start a service under real gunicorn for contract and end-to-end tests."""
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from conduit_common.testing.postgres import free_port, repo_root


def wait_until_ready(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None
                     ) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout} s")
        time.sleep(0.1)


@contextmanager
def gunicorn_service(service: str, env: dict, port: int | None = None, workers: int = 1,
                     log_path: Path | None = None):
    """Run services/<service> under gunicorn with its own config; yield its base URL."""
    port = port or free_port()
    root = repo_root()
    config = root / "services" / service / "gunicorn.conf.py"
    full_env = {**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1",
                "WEB_CONCURRENCY": str(workers)}
    log_file = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(config), f"conduit_{service}.wsgi:app"],
        env=full_env, cwd=root, stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base_url}/readyz", process=process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log_path:
            log_file.close()

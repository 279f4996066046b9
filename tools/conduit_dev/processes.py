"""The stack's processes run one Popen each, for tests: logs per process, restartable."""
import os
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

from conduit_dev import stack
from conduit_dev.config import StackConfig


class LocalStack:
    """Started processes of a prepared stack; each logs to log_dir/<name>.log."""

    def __init__(self, config: StackConfig, specs: list[stack.ProcessSpec], log_dir: Path):
        self.config = config
        self.specs = {spec.name: spec for spec in specs}
        self.log_dir = log_dir
        self._processes: dict[str, subprocess.Popen] = {}

    @property
    def api_url(self) -> str:
        return self.config.api_url

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def start(self, name: str) -> None:
        spec = self.specs[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:
            self._processes[name] = subprocess.Popen(
                spec.argv, env={**os.environ, **spec.env}, cwd=self.config.root,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def pid(self, name: str) -> int:
        """The pid of a running process (for tests that signal it)."""
        return self._processes[name].pid

    def stop(self, name: str, timeout: float = 20) -> None:
        process = self._processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        group = os.getpgid(process.pid)
        os.killpg(group, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            process.wait()

    def wait_ready(self, *names: str, timeout: float = 60) -> None:
        names = names or tuple(self.specs)

        def alive() -> bool:
            return all(self._processes[n].poll() is None for n in names)

        try:
            stack.wait_ready([self.specs[n] for n in names], timeout, alive)
        except TimeoutError as ex:
            logs = "\n".join(f"--- {n}:\n{self.log_path(n).read_text()[-3000:]}" for n in names)
            raise RuntimeError(f"{ex}\n{logs}") from ex

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)
        self.wait_ready(name)

    def stop_all(self) -> None:
        for name in reversed(list(self._processes)):
            self.stop(name)


@contextmanager
def running_stack(config: StackConfig, log_dir: Path, environ=None):
    """Prepare (database, configs) and start every process; stop all on exit."""
    with stack.prepared(config, environ) as specs:
        local = LocalStack(config, specs, log_dir)
        try:
            for spec in specs:
                local.start(spec.name)
            local.wait_ready()
            yield local
        finally:
            local.stop_all()

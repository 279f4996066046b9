"""`make run`'s process supervisor: honcho's prefixed output, but a crash is not the end.

honcho's Manager stops every process as soon as one exits. Here a process that exits
on its own (a crash, kill -9) is restarted after a backoff (1, 2, 4, 8, then every
10 s; back to 1 s once it has run for a while), with a log line saying so, and the
rest of the stack stays up. `terminate()` (the readiness timeout), Ctrl-C or SIGTERM
stop everything: SIGTERM to each process group, SIGKILL to what is left after
`stop_timeout`.

Each process runs in a session (and process group) of its own, so that a gunicorn
master's workers or nginx's workers go with it, and so that a crashed master's
orphans are killed before the restart (they would hold its port).
"""
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

BACKOFF_SECONDS = (1, 2, 4, 8, 10)
# A process that ran this long before exiting starts again from the first backoff.
STABLE_AFTER_SECONDS = 30.0


@dataclass
class _Process:
    name: str
    command: str
    env: dict
    cwd: str | None
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    crashes: int = 0
    restart_at: float | None = None
    readers: list = field(default_factory=list)


class Supervisor:
    """add_process() each command, then loop() until stopped (same calls as honcho's)."""

    def __init__(self, out=None, stop_timeout: float = 25.0,
                 backoff: tuple[float, ...] = BACKOFF_SECONDS,
                 stable_after: float = STABLE_AFTER_SECONDS):
        self._out = out or sys.stdout
        self._stop_timeout = stop_timeout
        self._backoff = backoff
        self._stable_after = stable_after
        self._processes: dict[str, _Process] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.returncode: int | None = None

    # --- output ------------------------------------------------------------------
    def _width(self) -> int:
        return max([len(n) for n in self._processes] + [len("supervisor")])

    def _write(self, name: str, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        with self._lock:
            self._out.write(f"{stamp} {name:<{self._width()}} | {line.rstrip()}\n")
            self._out.flush()

    def log(self, line: str) -> None:
        self._write("supervisor", line)

    def _pump(self, process: _Process, pipe) -> None:
        for raw in iter(pipe.readline, b""):
            self._write(process.name, raw.decode("utf-8", "replace"))
        pipe.close()

    # --- processes -----------------------------------------------------------------
    def add_process(self, name: str, cmd: str, env: dict | None = None,
                    cwd: str | None = None) -> None:
        self._processes[name] = _Process(name, cmd, dict(env or os.environ), cwd)

    def pids(self) -> dict[str, int]:
        """The pid (= process group) of each running process."""
        return {p.name: p.popen.pid for p in self._processes.values()
                if p.popen is not None and p.popen.poll() is None}

    def _start(self, process: _Process) -> None:
        process.popen = subprocess.Popen(
            ["/bin/sh", "-c", process.command], env=process.env, cwd=process.cwd,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True)
        process.started_at = time.monotonic()
        process.restart_at = None
        reader = threading.Thread(target=self._pump, args=(process, process.popen.stdout),
                                  daemon=True)
        reader.start()
        process.readers = [reader]

    @staticmethod
    def _signal_group(process: _Process, sig: int) -> None:
        try:
            os.killpg(process.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self, process: _Process, now: float) -> None:
        """An exited process: kill its group's leftovers, schedule the restart."""
        code = process.popen.returncode
        self._signal_group(process, signal.SIGKILL)   # orphaned workers hold the port
        for reader in process.readers:
            reader.join(timeout=1)
        if now - process.started_at >= self._stable_after:
            process.crashes = 0
        delay = self._backoff[min(process.crashes, len(self._backoff) - 1)]
        process.crashes += 1
        how = f"signal {-code}" if code < 0 else f"code {code}"
        self.log(f"{process.name} exited ({how}); restarting in {delay:g} s "
                 f"(restart {process.crashes})")
        process.popen = None
        process.restart_at = now + delay

    def loop(self) -> None:
        """Start everything, restart what exits; stop all when asked (also on an error)."""
        try:
            for process in self._processes.values():
                self._start(process)
            while not self._stopping.is_set():
                now = time.monotonic()
                for process in self._processes.values():
                    if process.popen is not None and process.popen.poll() is not None:
                        self._reap(process, now)
                    elif process.popen is None and process.restart_at is not None \
                            and now >= process.restart_at:
                        self.log(f"starting {process.name} again")
                        self._start(process)
                self._stopping.wait(0.1)
        finally:
            self._stop_all()

    def terminate(self) -> None:
        """Stop everything (from another thread: loop() returns)."""
        if self.returncode is None:
            self.returncode = 1
        self._stopping.set()

    def _stop_all(self) -> None:
        self._stopping.set()
        running = [p for p in reversed(list(self._processes.values())) if p.popen is not None]
        for process in running:
            self._signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        for process in running:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{process.name} did not stop in {self._stop_timeout:g} s: killing it")
            self._signal_group(process, signal.SIGKILL)   # and whatever it left behind
            process.popen.wait()
            for reader in process.readers:
                reader.join(timeout=1)

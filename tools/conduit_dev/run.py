"""`make run`: the stack in the foreground, supervised (a crashed process restarts);
Ctrl-C or SIGTERM stops it all."""
import os
import signal
import sys
import threading

from conduit_dev import monitoring, stack
from conduit_dev.config import StackConfig
from conduit_dev.supervisor import Supervisor


class Stopped(Exception):
    """SIGTERM: stop the stack (the supervisor stops its processes on the way out)."""


def _raise_stopped(signum, frame):
    raise Stopped()


def _write_procfile(config: StackConfig, specs: list[stack.ProcessSpec]) -> None:
    """For reading (what runs, with which command); env values stay out of it."""
    lines = [f"{spec.name}: {spec.shell_command}\n" for spec in specs]
    (config.run_dir / "Procfile").write_text("".join(lines))


def _announce_when_ready(manager: Supervisor, specs: list[stack.ProcessSpec], url: str,
                         stopped: threading.Event, extras: tuple[str, ...] = ()) -> None:
    try:
        stack.wait_ready(specs, alive=lambda: not stopped.is_set())
    except TimeoutError as ex:
        if not stopped.is_set():
            print(f"\n*** {ex}: stopping (see the output above) ***\n", flush=True)
            manager.terminate()
        return
    print(f"\n*** Conduit is ready: {url} (Ctrl-C stops everything) ***", flush=True)
    for extra in extras:
        print(f"*** {extra} ***", flush=True)
    print(flush=True)


def _run_under_honcho(config: StackConfig, specs: list[stack.ProcessSpec]) -> int:
    _write_procfile(config, specs)
    manager = Supervisor()
    for spec in specs:
        manager.add_process(spec.name, spec.shell_command, env={**os.environ, **spec.env},
                            cwd=str(config.root))
    public_url = config.api_url
    extras = ()
    if config.monitoring:
        extras = (f"Prometheus: {monitoring.prometheus_url(config)} (targets: "
                  f"{monitoring.prometheus_url(config)}/targets, alerts: /alerts)",)
    stopped = threading.Event()
    threading.Thread(target=_announce_when_ready,
                     args=(manager, specs, public_url, stopped, extras), daemon=True).start()
    try:
        manager.loop()
    finally:
        stopped.set()
    return manager.returncode or 0


def main() -> int:
    # Also when started in the background (SIGINT ignored): Ctrl-C always stops the stack.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_stopped)
    config = StackConfig.from_env()
    try:
        with stack.prepared(config) as specs:
            returncode = _run_under_honcho(config, specs)
    except (KeyboardInterrupt, Stopped):
        print("\nstopped", file=sys.stderr)
        return 0
    except (RuntimeError, KeyError, ValueError) as ex:
        print(f"make run: {ex}", file=sys.stderr)
        return 1
    # 130/143: stopped by Ctrl-C/SIGTERM as asked; anything else: a process failed.
    return 0 if returncode in (130, 143) else returncode

"""Find the stack's processes and measure them: peak RSS per service, CPU per component."""
import threading
import time

import psutil

SERVICES = ("auth", "profiles", "articles")
COMPONENTS = SERVICES + ("projectors", "gateway", "postgres", "wrk")
# Other stacks may run on the same machine (tests, other people): only count the
# processes of ours: descendants of our launcher, or naming our state directory
# (the Postgres server, daemonised by pg_ctl) and their children (its backends).
_SCOPE: dict = {"root": None, "marker": None}


def limit_to(root_pid: int | None, marker: str | None) -> None:
    _SCOPE["root"], _SCOPE["marker"] = root_pid, marker


def _descendants() -> set[int] | None:
    if _SCOPE["root"] is None:
        return None
    try:
        return {p.pid for p in psutil.Process(_SCOPE["root"]).children(recursive=True)}
    except psutil.Error:
        return set()


def _ours(proc: psutil.Process, cmdline: str, descendants: set[int] | None) -> bool:
    if descendants is None and _SCOPE["marker"] is None:
        return True
    if descendants and proc.pid in descendants:
        return True
    marker = _SCOPE["marker"]
    if not marker:
        return False
    if marker in cmdline:
        return True
    try:
        parent = proc.parent()
        return parent is not None and marker in " ".join(parent.cmdline())
    except psutil.Error:
        return False


def component_of(proc: psutil.Process, descendants: set[int] | None = None) -> str | None:
    try:
        name = proc.name()
        cmdline = " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    if name == "wrk" or not _ours(proc, cmdline, descendants):
        return None   # wrk's CPU is measured from our own child usage
    if any(f"conduit_{service}.projector" in cmdline for service in SERVICES):
        return "projectors"   # supervisor and worker of profiles' and articles' projectors
    for service in SERVICES:
        if (f"conduit_{service}.wsgi" in cmdline
                or f"services/{service}/gunicorn.conf.py" in cmdline):
            return service
    if name == "nginx" or cmdline.startswith("nginx:"):
        return "gateway"
    if name in ("postgres", "postmaster") or cmdline.startswith("postgres:"):
        return "postgres"
    return None


def by_component() -> dict[str, list[psutil.Process]]:
    found: dict[str, list[psutil.Process]] = {c: [] for c in COMPONENTS}
    descendants = _descendants()
    for proc in psutil.process_iter():
        component = component_of(proc, descendants)
        if component:
            found[component].append(proc)
    return found


def service_workers(service: str) -> list[psutil.Process]:
    """The gunicorn workers of a service (the processes whose parent is of the same service)."""
    procs = by_component()[service]
    pids = {p.pid for p in procs}
    workers = [p for p in procs if p.ppid() in pids]
    return workers or procs


def thread_counts(service: str) -> list[int]:
    counts = []
    for proc in service_workers(service):
        try:
            counts.append(proc.num_threads())
        except psutil.Error:
            pass
    return counts


class CpuMeter:
    """CPU seconds used per component between start() and stop()."""

    def __init__(self):
        self._before: dict[int, float] = {}

    @staticmethod
    def _snapshot() -> dict[int, tuple[str, float]]:
        snap = {}
        for component, procs in by_component().items():
            for proc in procs:
                try:
                    t = proc.cpu_times()
                except psutil.Error:
                    continue
                snap[proc.pid] = (component, t.user + t.system)
        return snap

    def start(self) -> None:
        self._before = {pid: used for pid, (_, used) in self._snapshot().items()}
        self._t0 = time.monotonic()

    def stop(self) -> dict[str, float]:
        """{component: share of the machine's CPU capacity (0..1)} over the interval."""
        elapsed = time.monotonic() - self._t0
        capacity = elapsed * (psutil.cpu_count() or 1)
        used = {c: 0.0 for c in COMPONENTS}
        for pid, (component, seconds) in self._snapshot().items():
            used[component] += seconds - self._before.get(pid, 0.0)
        return {c: max(0.0, s) / capacity for c, s in used.items()}


class RssSampler(threading.Thread):
    """Samples the summed RSS of each service's processes; keeps the peak."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak: dict[str, int] = {s: 0 for s in SERVICES}
        self.processes: dict[str, int] = {s: 0 for s in SERVICES}
        self._halt = threading.Event()

    def sample(self) -> None:
        found = by_component()
        for service in SERVICES:
            total = 0
            for proc in found[service]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            if total > self.peak[service]:
                self.peak[service] = total
                self.processes[service] = len(found[service])

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

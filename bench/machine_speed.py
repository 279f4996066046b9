"""How fast the machine is right now, and where its CPU time went during a load run.

The bench runs on a shared VM whose speed moves by about 30 % from one minute to the
next, so req/s from two runs (or two phases of one run) are not comparable as they
stand. `probe()` times a fixed pure-Python workload (dicts, strings, ints: the kind of
work our services do per request) in one process per CPU at once, so it sees what a
CPU-bound stack would see: other tenants, steal, frequency. speed = REFERENCE_SECONDS /
the probe's time, so req/s / speed is the rate at the reference speed.
`MachineCpu` gives the machine-wide busy / idle / iowait / steal split of an interval.

    python bench/machine_speed.py        # one probe, printed
"""
import contextlib
import os
import select
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields

import psutil

# Rounds of the workload per repetition: about 0.15 s per process at the reference speed.
ROUNDS = 60_000
REPETITIONS = 3
# No more repetitions once this much time went by: a slow moment must not make the probe
# costly (at the reference speed the three take 0.45 s, plus 0.05 s to start the processes).
BUDGET_S = 1.5
# The probe's time on the bench's VM (2 vCPUs, "Intel(R) Xeon(R) Processor", Firecracker,
# Python 3.11.7) at its quietest, measured on 2026-11-30 between 10:56 and 11:15 UTC:
# the best of about 100 probes was 149 ms (then 157, 161 ms), and each child's own CPU
# time per repetition (time.process_time, which waiting for a CPU does not inflate) was
# 151 ms at best. The machine was never idle then (other sessions' stacks and tests ran),
# so 0.150 s is the quietest moment seen, from two measures that agree. Speed 1.0 = that
# machine, quiet; 0.8 = 20 % slower. Measure again (the best of many `python
# bench/machine_speed.py`) if the workload, ROUNDS or the machine kind change.
REFERENCE_SECONDS = 0.150
# A probe that takes longer than this is abandoned (recorded as None), never waited on.
TIMEOUT_S = 5.0
# Linux counts guest time inside user time as well: leave the guest fields out.
BUSY_FIELDS = ("user", "nice", "system", "irq", "softirq")
SPLIT_FIELDS = BUSY_FIELDS + ("idle", "iowait", "steal")


def workload(rounds: int) -> int:
    """Build, format and scan `rounds` article-like dicts; return a checksum (the same
    for the same rounds in every process, so the work cannot vary or be skipped)."""
    checksum = 0
    for i in range(rounds):
        article = {"slug": f"how-to-train-your-dragon-{i}", "title": "How to train " + str(i),
                   "tagList": ["dragons", "training", str(i % 7)], "favoritesCount": i % 13,
                   "author": {"username": f"user{i % 97}", "following": i % 3 == 0}}
        pairs = [f"{key}={value}" for key, value in article.items() if key != "author"]
        body = "|".join(pairs).upper()
        checksum = (checksum * 31 + len(body) + article["favoritesCount"]
                    + body.count("DRAGON") + len(article["author"]["username"])) % 1_000_003
    return checksum


@dataclass(frozen=True)
class Speed:
    seconds: float     # the best repetition: wall clock until every process finished
    spread: float      # (slowest - best) / best over the repetitions: the probe's own noise
    speed: float       # REFERENCE_SECONDS / seconds: 1.0 = the reference machine, quiet
    processes: int
    repetitions: int   # fewer than asked when the machine was so slow that BUDGET_S ran out


def speed_factor(seconds: float, reference: float = REFERENCE_SECONDS) -> float:
    return reference / seconds


def measure(processes: int | None = None, repetitions: int = REPETITIONS,
            rounds: int = ROUNDS, reference: float = REFERENCE_SECONDS,
            timeout_s: float = TIMEOUT_S) -> Speed:
    """Run the workload in `processes` children at once, `repetitions` times; keep the
    best time (the least disturbed) and the spread."""
    processes = processes or os.cpu_count() or 1
    command = [sys.executable, __file__, "--worker", str(rounds)]
    with contextlib.ExitStack() as cleanup:
        children = [cleanup.enter_context(subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
            for _ in range(processes)]
        # Runs first (last in, first out): a child still working is killed, not awaited.
        cleanup.callback(lambda: [child.kill() for child in children])
        # The children are started (interpreter start-up) before the clock runs.
        _one_line_each(children, timeout_s)
        times = []
        budget_ends = time.monotonic() + BUDGET_S
        while len(times) < repetitions and (not times or time.monotonic() < budget_ends):
            times.append(_timed_round(children, timeout_s))
    best = min(times)
    return Speed(seconds=best, spread=(max(times) - best) / best,
                 speed=speed_factor(best, reference), processes=processes,
                 repetitions=len(times))


def probe(**kwargs) -> Speed | None:
    """measure(), or None when it fails: a broken probe must not stop the bench."""
    try:
        return measure(**kwargs)
    except (OSError, ValueError, subprocess.SubprocessError, TimeoutError) as ex:
        print(f"warning: the machine-speed probe failed: {ex!r}", flush=True)
        return None


def _timed_round(children: list[subprocess.Popen], timeout_s: float) -> float:
    started = time.perf_counter()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    _one_line_each(children, timeout_s)
    return time.perf_counter() - started


def _one_line_each(children: list[subprocess.Popen], timeout_s: float) -> None:
    """Wait for the next line of every child (each writes exactly one per request)."""
    deadline = time.monotonic() + timeout_s
    waiting = {child.stdout: child for child in children}
    while waiting:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"a probe process took more than {timeout_s:g} s")
        ready, _, _ = select.select(list(waiting), [], [], remaining)
        for stream in ready:
            if not stream.readline():
                raise OSError(f"a probe process exited ({waiting[stream].poll()})")
            del waiting[stream]


def _serve(rounds: int) -> None:
    """The child's side: ready at once, then one workload per line on stdin."""
    print("ready", flush=True)
    for _ in sys.stdin:
        print(workload(rounds), flush=True)


class MachineCpu:
    """The machine's CPU time split (busy, idle, iowait, steal) between start() and
    stop(): idle shows a run that did not use the CPUs, steal one the host took them from."""

    def __init__(self, cpu_times=psutil.cpu_times):
        self._cpu_times = cpu_times
        self._before = None

    def start(self) -> None:
        self._before = self._cpu_times()

    def stop(self) -> dict[str, float]:
        return cpu_split(self._before, self._cpu_times())


def cpu_split(before, after) -> dict[str, float]:
    """{busy, idle, iowait, steal: share of the interval's CPU time}; {} if none passed."""
    delta = {name: getattr(after, name, 0.0) - getattr(before, name, 0.0)
             for name in SPLIT_FIELDS}
    total = sum(delta.values())
    if total <= 0:
        return {}
    return {"busy": sum(delta[name] for name in BUSY_FIELDS) / total,
            "idle": delta["idle"] / total, "iowait": delta["iowait"] / total,
            "steal": delta["steal"] / total}


class PhaseProbes:
    """Probes before and after each phase of a run; `records` goes into the run's JSON."""

    def __init__(self, probe=probe):
        self._probe = probe
        self.records: list[dict] = []

    @contextlib.contextmanager
    def around(self, phase: str):
        self.record(phase, "before")
        yield
        self.record(phase, "after")

    def record(self, phase: str, when: str) -> None:
        found = self._probe()
        values = asdict(found) if found else {field.name: None for field in fields(Speed)}
        self.records.append({"phase": phase, "when": when, **values})
        if found:
            print(f"machine speed {when} {phase}: {found.speed:.2f} "
                  f"({1000 * found.seconds:.0f} ms, spread {100 * found.spread:.0f} %)",
                  flush=True)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        _serve(int(argv[1]))
        return 0
    found = measure()
    print(f"{1000 * found.seconds:.0f} ms (spread {100 * found.spread:.0f} %), speed "
          f"{found.speed:.2f} with {found.processes} processes; load average "
          f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

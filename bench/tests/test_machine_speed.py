"""The machine-speed probe, the machine's CPU split over a run, and how the report shows
both (and still renders reports written before them)."""
import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import machine_speed  # noqa: E402
import report  # noqa: E402

# The fields psutil.cpu_times() has on Linux.
CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest "
                      "guest_nice")


def cpu_times(**seconds) -> CpuTimes:
    return CpuTimes(**{name: seconds.get(name, 0.0) for name in CpuTimes._fields})


def test_the_workload_is_the_same_in_every_run_and_grows_with_its_rounds():
    assert machine_speed.workload(2000) == machine_speed.workload(2000)
    assert machine_speed.workload(2000) != machine_speed.workload(2001)


def test_a_probe_gives_positive_seconds_and_speed_is_the_reference_over_them():
    found = machine_speed.measure(processes=2, repetitions=2, rounds=2000, reference=0.05)

    assert found.seconds > 0
    assert found.speed == pytest.approx(0.05 / found.seconds)
    assert found.spread >= 0
    assert found.processes == 2
    assert found.repetitions in (1, 2)


def test_a_probe_of_much_more_work_takes_longer_and_reads_as_a_slower_machine():
    # 30 times the work: far more than the machine's own swings between two probes.
    small = machine_speed.measure(processes=2, rounds=1000)
    large = machine_speed.measure(processes=2, rounds=30_000)

    assert large.seconds > small.seconds
    assert large.speed < small.speed


def test_speed_halves_when_the_probe_takes_twice_as_long():
    assert machine_speed.speed_factor(0.4, reference=0.2) == pytest.approx(0.5)
    assert machine_speed.speed_factor(0.1, reference=0.2) == pytest.approx(2.0)


def test_a_probe_that_overruns_its_timeout_gives_none_instead_of_stopping_the_bench():
    started = time.monotonic()

    assert machine_speed.probe(rounds=10**9, timeout_s=0.3) is None
    assert time.monotonic() - started < 5


def test_a_failed_probe_is_recorded_with_empty_values_around_the_phase():
    probes = machine_speed.PhaseProbes(probe=lambda: None)
    ran = []

    with probes.around("write mix"):
        ran.append("phase")

    assert ran == ["phase"]
    assert [(r["phase"], r["when"], r["speed"], r["seconds"]) for r in probes.records] == [
        ("write mix", "before", None, None), ("write mix", "after", None, None)]


def test_phase_probes_record_the_speed_before_and_after_the_phase():
    speeds = iter([machine_speed.Speed(0.25, 0.1, 0.8, 2, 3),
                   machine_speed.Speed(0.2, 0.0, 1.0, 2, 3)])
    probes = machine_speed.PhaseProbes(probe=lambda: next(speeds))

    with probes.around("small data set"):
        pass

    assert [(r["when"], r["speed"], r["seconds"]) for r in probes.records] == [
        ("before", 0.8, 0.25), ("after", 1.0, 0.2)]


def test_the_cpu_split_gives_the_shares_of_busy_idle_iowait_and_steal_time():
    before = cpu_times(user=10, idle=10)
    # guest time is already inside user time on Linux: it must not count twice
    after = cpu_times(user=12, system=1, idle=14, iowait=1, steal=2, guest=5)

    split = machine_speed.cpu_split(before, after)

    assert split == pytest.approx({"busy": 0.3, "idle": 0.4, "iowait": 0.1, "steal": 0.2})


def test_the_cpu_split_of_an_interval_without_cpu_time_is_empty():
    assert machine_speed.cpu_split(cpu_times(idle=3), cpu_times(idle=3)) == {}


def test_the_machines_cpu_split_over_a_busy_moment_sums_to_one():
    meter = machine_speed.MachineCpu()
    meter.start()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        pass
    split = meter.stop()

    assert set(split) == {"busy", "idle", "iowait", "steal"}
    assert all(0 <= share <= 1 for share in split.values())
    assert sum(split.values()) == pytest.approx(1.0)
    assert split["busy"] > 0


def a_run(**extra) -> dict:
    """A run as run_bench wrote it before the speed probe (two endpoints)."""
    row = {"request": "GET /articles", "rps": 900.0, "p50_ms": 30.0, "p99_ms": 80.0,
           "non_2xx": 0, "5xx": 0, "target": ">= 650 req/s", "met": "yes",
           "cpu": {"articles": 0.5, "postgres": 0.2}, "cpu_ms_per_request": 1.5}
    return {
        "date": "2026-11-30 10:00 UTC",
        "machine": {"nproc": 2, "cpu": "Xeon", "memory": "8.0 GiB", "kernel": "6.1",
                    "python": "3.11.7", "versions": "falcon 4", "nginx": "1.22",
                    "postgres": "15", "wrk": "wrk 4"},
        "settings": {"launcher": "conduit_dev run", "workers": "2", "threads": "4",
                     "worker_class": "SplitPoolThreadWorker", "observed_threads": "4",
                     "connections": 32, "wrk_threads": 2, "seconds": 10, "warmup": 2,
                     "gateway_limits": ""},
        "data": {"users": 20, "articles_per_user": 10, "tags": 10, "follows": 100,
                 "favorites": 200, "comments": 410, "seconds": 30.0},
        "results": [{**row, "name": "list articles"}, {**row, "name": "tags", "rps": 1800.0}],
        "loadavg_before": [0.5, 0.5, 0.5], "loadavg_after": [1.5, 1.0, 0.8],
        "socket_errors": 0, "total_5xx": 0,
        "rss": {"articles": 100 << 20}, "rss_processes": {"articles": 3},
        "rss_seeding": {"articles": 90 << 20},
        **extra,
    }


def probe_record(phase: str, when: str, speed: float | None) -> dict:
    seconds = None if speed is None else 0.2 / speed
    return {"phase": phase, "when": when, "seconds": seconds, "spread": 0.05,
            "speed": speed, "processes": 2, "repetitions": 3}


def test_a_report_from_before_the_probe_renders_without_the_new_table_and_columns():
    text = report.section(a_run())

    assert "| list articles | `GET /articles` | 900 | 30.0 |" in text
    assert "### Machine speed" not in text
    # the columns, not the words: the hand-written analysis below the tables may name them
    assert "| req/s at ref. speed |" not in text
    assert "| machine idle / steal |" not in text


def test_a_report_shows_the_speed_around_each_phase_and_req_s_at_reference_speed():
    run = a_run(machine_speed=[probe_record("small data set", "before", 0.8),
                               probe_record("small data set", "after", 1.0),
                               probe_record("write mix", "before", 0.5)],
                machine_speed_reference_s=0.2)
    for row in run["results"]:
        row["machine"] = {"busy": 0.85, "idle": 0.12, "iowait": 0.0, "steal": 0.03}

    text = report.section(run)

    assert "### Machine speed" in text
    assert "| small data set | 0.80 (250 ms) | 1.00 (200 ms) |" in text
    assert "| write mix | 0.50 (400 ms) | - |" in text
    assert "req/s divided by the mean speed" in text
    # 900 req/s at a mean speed of 0.9 = 1000 req/s at the reference speed
    assert "| list articles | `GET /articles` | 900 | 1000 | 30.0 |" in text
    assert "| tags | `GET /articles` | 1800 | 2000 | 30.0 |" in text
    assert "| 12 % / 3 % |" in text


def test_a_report_whose_probes_failed_shows_them_as_failed_and_no_reference_rate():
    run = a_run(machine_speed=[probe_record("small data set", "before", None),
                               probe_record("small data set", "after", None)],
                machine_speed_reference_s=0.2)

    text = report.section(run)

    assert "| small data set | failed | failed |" in text
    assert "| list articles | `GET /articles` | 900 | - | 30.0 |" in text
    assert "machine idle / steal" not in text

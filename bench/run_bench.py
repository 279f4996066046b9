"""`make bench`: start the stack like `make run`, seed it through the API, load it with wrk.

Prints req/s, p50/p99 latency, non-2xx and 5xx per endpoint, the CPU share of
each component and the services' peak RSS, compares gthread with sync workers,
profiles the endpoints that miss their target with py-spy, and writes the
"## API throughput" section of docs/benchmarks.md.

    python bench/run_bench.py                   # everything (about 4 minutes)
    python bench/run_bench.py --url URL         # against a stack that is already running
    python bench/run_bench.py --seconds 3 --no-compare --no-write   # quick look
"""
import argparse
import json
import math
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
import pyspy  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
import wrk  # noqa: E402
from stack import ROOT, RunningStack, Stack, launcher_command  # noqa: E402

REPORTS = ROOT / "reports" / "bench"
LIST_TARGET_RPS = 300
SINGLE_TARGET_P99_MS = 100
# Endpoints compared between gthread and sync workers.
COMPARED = ("list articles", "single article", "feed", "current user")


def endpoints(data: seed.Seeded) -> list[dict]:
    """name, request (for the report), path, signed in?, script, kind of target."""
    hot = data.hot_article
    other = data.users[1]["username"]
    return [
        dict(name="list articles", path="/articles", auth=False, kind="list"),
        dict(name="list articles, signed in", path="/articles", auth=True, kind="list"),
        dict(name="list by tag", path=f"/articles?tag={data.tag}", auth=False, kind="list"),
        dict(name="feed", path="/articles/feed", auth=True, kind="list"),
        dict(name="single article", path=f"/articles/{hot}", auth=True, kind="single"),
        dict(name="comments", path=f"/articles/{hot}/comments", auth=False, kind=None),
        dict(name="profile", path=f"/profiles/{other}", auth=True, kind="single"),
        dict(name="tags", path="/tags", auth=False, kind=None),
        dict(name="favorite + unfavorite", path="/articles/", auth=True, kind=None,
             script="favorite.lua", args=data.favorite_targets(),
             request="POST/DELETE /articles/{slug}/favorite"),
        dict(name="current user", path="/user", auth=True, kind="single"),
    ]


def verdict(result: wrk.Result, kind: str | None) -> tuple[str, bool]:
    ok = result.status["5xx"] == 0 and result.socket_errors == 0
    if kind == "list":
        return f">= {LIST_TARGET_RPS} req/s, no 5xx", ok and result.rps >= LIST_TARGET_RPS
    if kind == "single":
        return (f"p99 < {SINGLE_TARGET_P99_MS} ms, no 5xx",
                ok and result.p99_ms < SINGLE_TARGET_P99_MS)
    return "no 5xx", ok


def load(stack, data, token: str, opts, only=None, warm=True) -> list[tuple[dict, wrk.Result]]:
    binary = wrk.ensure_wrk()
    out = []
    for ep in endpoints(data):
        if only and ep["name"] not in only:
            continue
        kwargs = dict(wrk=binary, connections=opts.connections, threads=opts.threads,
                      headers={"Authorization": f"Token {token}"} if ep["auth"] else None,
                      script=ep.get("script"), args=ep.get("args", []))
        url = stack.api_url + ep["path"]
        if warm and opts.warmup:
            wrk.run(ep["name"], url, seconds=opts.warmup, **kwargs)
        meter = procs.CpuMeter()
        meter.start()
        result = wrk.run(ep["name"], url, seconds=opts.seconds, **kwargs)
        result.cpu = meter.stop()
        result.cpu["wrk"] = result.wrk_cpu_s / (result.seconds * (os.cpu_count() or 1))
        print(f"  {ep['name']:28} {result.rps:7.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
              f"p99 {result.p99_ms:6.1f} ms  non-2xx {result.non_2xx}  "
              f"5xx {result.status['5xx']}", flush=True)
        out.append((ep, result))
    return out


def signed_in_token(stack, data) -> str:
    """The reader's token; logs in again if the stack came back with another secret."""
    token = data.reader["token"]
    probe = requests.get(f"{stack.api_url}/user", headers={"Authorization": f"Token {token}"},
                         timeout=10)
    if probe.status_code == 200:
        return token
    name = data.reader["username"]
    body = {"user": {"email": f"{name}@bench.example", "password": seed.PASSWORD}}
    resp = requests.post(f"{stack.api_url}/users/login", json=body, timeout=10)
    resp.raise_for_status()
    return resp.json()["user"]["token"]


def profile(stack, data, token, names, opts, stamp: str) -> dict:
    """py-spy on every worker of every service while each named endpoint is loaded."""
    if not pyspy.py_spy():
        print("py-spy not found: skipping the profile (pip install py-spy)", flush=True)
        return {}
    binary = wrk.ensure_wrk()
    found = {}
    for ep in endpoints(data):
        if ep["name"] not in names:
            continue
        print(f"profiling {ep['name']} with py-spy", flush=True)
        recorders = []
        for service in procs.SERVICES:
            for worker in procs.service_workers(service):
                out = REPORTS / f"pyspy-{stamp}-{slug(ep['name'])}-{service}-{worker.pid}.txt"
                recorders.append((service, out, pyspy.start(worker.pid, opts.seconds, out)))
        time.sleep(0.5)
        wrk.run(ep["name"], stack.api_url + ep["path"], wrk=binary, seconds=opts.seconds,
                connections=opts.connections, threads=opts.threads,
                headers={"Authorization": f"Token {token}"} if ep["auth"] else None,
                script=ep.get("script"), args=ep.get("args", []))
        per_service = {}
        for service in procs.SERVICES:
            paths = []
            for svc, out, proc in recorders:
                if svc != service:
                    continue
                try:
                    _, err = proc.communicate(timeout=opts.seconds + 30)
                except Exception:  # a stuck py-spy must not stop the bench
                    proc.kill()
                    err = "timed out"
                if proc.returncode:
                    print(f"  py-spy on {service}: {err.strip()[:200]}", flush=True)
                paths.append(out)
            per_service[service] = pyspy.summarise(paths)
        found[ep["name"]] = per_service
        for service, summary in per_service.items():
            libs = ", ".join(f"{lib} {100 * s:.0f}%" for lib, s in summary["libraries"][:5])
            print(f"  {service:9} {libs}", flush=True)
    return found


def pick_profiled(results, missed: list[str], mode: str) -> set[str]:
    """always: every endpoint. missed: at most three (bounded time): the slowest list
    endpoint (profiled even when it meets its target, as the reference), the feed if it
    missed, and the single-object read with the worst p99 if one missed."""
    if mode == "never":
        return set()
    if mode == "always":
        return {r.name for _, r in results}
    lists = [(r.rps, r.name) for ep, r in results if ep["kind"] == "list"]
    chosen = {min(lists)[1]} if lists else set()
    if "feed" in missed:
        chosen.add("feed")
    singles = [(r.p99_ms, r.name) for ep, r in results
               if ep["kind"] == "single" and r.name in missed]
    if singles:
        chosen.add(max(singles)[1])
    return chosen


def cpu_ms_per_request(r: wrk.Result) -> float:
    """CPU time the whole stack (and wrk) spent per request: robust to a busy machine,
    and cores / this = the rate the machine could sustain if nothing else ran."""
    if not r.requests:
        return 0.0
    return sum(r.cpu.values()) * (os.cpu_count() or 1) * r.seconds * 1000 / r.requests


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def rows(results) -> list[dict]:
    out = []
    for ep, r in results:
        target, met = verdict(r, ep["kind"])
        out.append({"name": r.name, "request": ep.get("request") or
                    f"{'GET ' + ep['path']}{' (signed in)' if ep['auth'] else ''}",
                    "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
                    "non_2xx": r.non_2xx, "5xx": r.status["5xx"], "status": r.status,
                    "socket_errors": r.socket_errors, "target": target,
                    "met": "yes" if met else "**no**", "cpu": r.cpu, "kind": ep["kind"],
                    "cpu_ms_per_request": cpu_ms_per_request(r)})
    return out


def shorten_paths(text: str, data: seed.Seeded) -> str:
    return (text.replace(data.hot_article, "{slug}")
            .replace(data.users[1]["username"], "{username}"))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="API base of a running stack (e.g. "
                        "http://127.0.0.1:8080/flask/api); default: start one")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-compare", action="store_true", help="skip the sync-worker run")
    parser.add_argument("--profile", choices=("missed", "always", "never"), default="missed")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    wrk.ensure_wrk()
    REPORTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    threads = os.environ.get("GUNICORN_THREADS", "4")
    state_dir = ROOT / ".run" / "bench"
    if opts.url:
        stack = RunningStack(opts.url)
    else:
        shutil.rmtree(state_dir, ignore_errors=True)   # fresh data every run
        stack = Stack.with_free_ports(
            {"WEB_CONCURRENCY": workers, "GUNICORN_THREADS": threads, "LOG_LEVEL": "WARNING"},
            state_dir, REPORTS / f"stack-{stamp}-gthread.log", "gthread")
    run = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": report.machine()}
    sampler = procs.RssSampler()
    with stack:
        if not opts.url:
            procs.limit_to(stack.process.pid, str(state_dir))
        sampler.start()
        found = procs.by_component()
        print("processes: " + ", ".join(f"{c} {len(found[c])}" for c in procs.COMPONENTS
                                        if c != "wrk"), flush=True)
        print(f"seeding through {stack.api_url}", flush=True)
        t0 = time.monotonic()
        data = seed.seed(stack.api_url)
        seeded_s = time.monotonic() - t0
        sampler.stop()
        run["rss_seeding"] = dict(sampler.peak)
        sampler = procs.RssSampler()
        sampler.start()
        run["loadavg_before"] = os.getloadavg()
        token = data.reader["token"]
        observed = sorted(set(procs.thread_counts("articles")))
        print(f"load: {opts.connections} connections, {opts.threads} threads, "
              f"{opts.seconds} s per endpoint", flush=True)
        main_results = load(stack, data, token, opts)
        missed = [r.name for ep, r in main_results if not verdict(r, ep["kind"])[1]]
        to_profile = pick_profiled(main_results, missed, opts.profile)
        profiles = profile(stack, data, token, to_profile, opts, stamp) if to_profile else {}
        run["loadavg_after"] = os.getloadavg()
    sampler.stop()
    run["rss"], run["rss_processes"] = dict(sampler.peak), dict(sampler.processes)

    compare = None
    if not opts.no_compare and not opts.url:
        sync_settings = {"WEB_CONCURRENCY": workers, "GUNICORN_THREADS": "1",
                         "GUNICORN_CMD_ARGS": "--worker-class sync --threads 1",
                         "LOG_LEVEL": "WARNING"}
        sync_stack = Stack(
            {**stack.env, **sync_settings}, REPORTS / f"stack-{stamp}-sync.log", "sync")
        print("restarting the stack with sync workers", flush=True)
        with sync_stack:
            procs.limit_to(sync_stack.process.pid, str(state_dir))
            sync_observed = sorted(set(procs.thread_counts("articles")))
            sync_token = signed_in_token(sync_stack, data)
            sync_results = load(sync_stack, data, sync_token, opts, only=COMPARED)
        by_name = {r.name: r for _, r in main_results}
        compare_rows = []
        for _, r in sync_results:
            g = by_name[r.name]
            compare_rows.append({"name": r.name, "gthread": g.rps, "sync": r.rps,
                                 "ratio": g.rps / r.rps if r.rps else float("inf"),
                                 "gthread_p99": g.p99_ms, "sync_p99": r.p99_ms,
                                 "sync_5xx": r.status["5xx"]})
        ratios = [row["ratio"] for row in compare_rows if math.isfinite(row["ratio"])]
        compare = {"rows": compare_rows,
                   "geomean": math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else 0,
                   "sync_settings": "GUNICORN_CMD_ARGS='--worker-class sync --threads 1'",
                   "observed_threads": ", ".join(map(str, sync_observed))}

    table = [(r, verdict(r, ep["kind"])[0] + (" ok" if verdict(r, ep["kind"])[1] else " MISSED"))
             for ep, r in main_results]
    print()
    print(report.console(table, f"gthread workers (WEB_CONCURRENCY={workers}, "
                                f"threads={threads})"))
    for name, rss in run["rss"].items():
        print(f"peak RSS {name:9} {rss / 1024 / 1024:6.0f} MiB under load "
              f"({run['rss_processes'][name]} processes), "
              f"{run['rss_seeding'][name] / 1024 / 1024:.0f} MiB while seeding")
    print("load average (1 min) before/after the load runs: "
          f"{run['loadavg_before'][0]:.1f} / {run['loadavg_after'][0]:.1f}")
    if compare:
        print("\ngthread vs sync (req/s): " + ", ".join(
            f"{row['name']} {row['gthread']:.0f}/{row['sync']:.0f} = {row['ratio']:.2f}"
            for row in compare["rows"]) + f"; geometric mean {compare['geomean']:.2f}")

    result_rows = rows(main_results)
    for row in result_rows:
        row["request"] = shorten_paths(row["request"], data)
    run.update({
        "settings": {"launcher": " ".join(launcher_command()) if not opts.url else opts.url,
                     "workers": workers, "threads": threads, "worker_class": "gthread",
                     "observed_threads": ", ".join(map(str, observed)) or "?",
                     "connections": opts.connections, "wrk_threads": opts.threads,
                     "seconds": opts.seconds, "warmup": opts.warmup},
        "data": {"users": 20, "articles_per_user": 10, "tags": len(seed.TAGS),
                 "follows": 100, "favorites": 200, "comments": 410, "seconds": seeded_s},
        "results": result_rows,
        "socket_errors": sum(r.socket_errors for _, r in main_results),
        "total_5xx": sum(r.status["5xx"] for _, r in main_results),
        "compare": compare,
        "profiles": profiles,
    })
    (REPORTS / f"bench-{stamp}.json").write_text(json.dumps(run, indent=2, default=str))
    if not opts.no_write:
        report.write_section(report.section(run))
        print(f"\nwrote the '{report.HEADING}' section of {report.BENCHMARKS.relative_to(ROOT)}")
    missed_text = ", ".join(missed) if missed else "none"
    print(f"targets missed: {missed_text}; raw results in {REPORTS.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

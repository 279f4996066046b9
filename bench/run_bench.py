"""`make bench`: start the stack like `make run`, seed it through the API, load it with wrk.

Prints req/s, p50/p99 latency, non-2xx and 5xx per endpoint, the CPU share of
each component and the services' peak RSS, compares gthread with sync workers,
profiles the endpoints that miss their target with py-spy, and writes the
"## API throughput" section of docs/benchmarks.md.

    python bench/run_bench.py                   # everything (about 4 minutes)
    python bench/run_bench.py --url URL         # against a stack that is already running
    python bench/run_bench.py --seconds 3 --no-compare --no-write   # quick look
    python bench/run_bench.py --scale 0.05 --peers none   # smaller large set, no peers

After the small data set, the large one (bench/bulk_load.py: 100k users, 1M articles,
2M favorites at --scale 1) is loaded into the same stack (same database, restarted
after the sync-worker comparison) and the list endpoints run again. During a write mix
(favorites + follow/unfollow + profile updates) the projectors' /status gives the
projection lag. With the RealWorld peers of ../shared/peers installed (--peers DEST),
they are seeded and loaded with the same scenario in the same run. Before and after
the load of each phase, bench/machine_speed.py times a fixed CPU probe: the machine's
speed at that moment, to compare runs made at different moments.
"""
import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import requests
from conduit_common.testing.postgres import free_port

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulk_load  # noqa: E402
import machine_speed  # noqa: E402
import peers  # noqa: E402
import procs  # noqa: E402
import projectors  # noqa: E402
import pyspy  # noqa: E402
import report  # noqa: E402
import seed  # noqa: E402
import wrk  # noqa: E402
from stack import ROOT, RunningStack, Stack, launcher_command  # noqa: E402

REPORTS = ROOT / "reports" / "bench"
# The targets of issue 14: req/s per endpoint (lists, tag and feed 650), p99 for
# single-object reads at 32 connections, CPU per list request across the stack, no 5xx.
TARGET_RPS = {"list articles": 650, "list articles, signed in": 650, "list by tag": 650,
              "list by author": 650, "list favorited": 650, "feed": 650,
              "single article": 600, "comments": 630, "profile": 900, "tags": 2000,
              "current user": 1250, "favorite + unfavorite": 340}
SINGLE_TARGET_P99_MS = 100
LIST_TARGET_CPU_MS = 3.0
# Run again on the large data set; its p99 may be at most this times the small one's.
SCALE_ENDPOINTS = ("list articles", "list by tag", "list by author", "list favorited",
                   "feed", "tags")
SCALE_TARGET_RATIO = 1.5
LAG_TARGET_P99_MS = 100
# The public threads per worker when GUNICORN_THREADS is not set (the services'
# gunicorn.conf.py; tests/deploy/test_gunicorn_config.py holds them to it).
THREADS_BY_DEFAULT = "4 in articles, 2 in auth and profiles"
# The gateway's per-client limits on login and registration would refuse the seeding
# (20 registrations at once) and the bench's sign-ins: raised for the bench's own stack.
GATEWAY_LIMITS = {"LOGIN_RATE": "100r/s", "LOGIN_BURST": "1000",
                  "REGISTER_RATE": "100r/s", "REGISTER_BURST": "1000"}
# Endpoints compared between gthread and sync workers, and between overhead variants.
COMPARED = ("list articles", "single article", "feed", "current user")
# Per-request overhead (issue 14): the same stack restarted with one knob changed.
VARIANTS = (
    ("access log off", {"ACCESS_LOG": "0"},
     "the services' JSON access log line per request (the gateway logs every request too)"),
    ("pool pre-ping on every checkout", {"DB_POOL_PRE_PING": "always"},
     "SQLAlchemy's pool_pre_ping (a round trip per request) instead of the default, which "
     "tests only connections idle for over a second"),
    ("tracing on", {"OTEL_EXPORTER_OTLP_ENDPOINT": "<sink>"},
     "OpenTelemetry spans (server, SQL, peer calls) exported over OTLP/HTTP to a local "
     "sink that discards them (conduit_common.testing.otlp_sink); off is the default"),
)
# A variant setting this value gets the URL of an OTLP sink started for its run.
OTLP_SINK = "<sink>"


def overhead_variant(stack, data, opts, state_dir, stamp, main_results, label, settings, what):
    """Restart the stack with one knob changed and load the compared endpoints again."""
    with otlp_sink(settings) as env:
        return _overhead_variant(stack, data, opts, state_dir, stamp, main_results, label,
                                 settings, env, what)


@contextlib.contextmanager
def otlp_sink(settings: dict):
    """Settings with OTLP_SINK replaced by the URL of a sink process (tracing on)."""
    if OTLP_SINK not in settings.values():
        yield settings
        return
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "conduit_common.testing.otlp_sink",
                             "--port", str(port)])
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.post(f"{url}/v1/traces", data=b"", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield {k: url if v == OTLP_SINK else v for k, v in settings.items()}
    finally:
        sink.terminate()
        sink.wait(timeout=10)


def _overhead_variant(stack, data, opts, state_dir, stamp, main_results, label, settings,
                      env, what):
    variant = Stack({**stack.env, **env},
                    REPORTS / f"stack-{stamp}-{label.replace(' ', '-')}.log", label)
    print(f"restarting the stack: {label}", flush=True)
    with variant:
        procs.limit_to(variant.process.pid, str(state_dir))
        results = load(variant, data, signed_in_token(variant, data), opts, only=COMPARED)
    by_name = {r.name: r for _, r in main_results}
    rows = [{"name": r.name, "base": by_name[r.name].rps, "variant": r.rps,
             "ratio": r.rps / by_name[r.name].rps if by_name[r.name].rps else float("inf"),
             "base_p99": by_name[r.name].p99_ms, "variant_p99": r.p99_ms,
             "variant_5xx": r.status["5xx"]} for _, r in results]
    ratios = [row["ratio"] for row in rows if math.isfinite(row["ratio"])]
    return {"label": label, "settings": " ".join(f"{k}={v}" for k, v in settings.items()),
            "what": what, "rows": rows,
            "geomean": math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else 0}


def endpoints(data: seed.Seeded, large: bulk_load.Loaded | None = None) -> list[dict]:
    """name, request (for the report), path, signed in?, script, kind of target.

    With `large`: the SCALE_ENDPOINTS on the large data set, each aimed at its heaviest
    case (the most popular tag, the most prolific author, the user with the most
    favorites, the feed of the user who follows the most authors)."""
    hot = data.hot_article
    other = data.users[1]["username"]
    if large is not None:
        return [
            dict(name="list articles", path="/articles", auth=False, kind="list"),
            dict(name="list by tag", path=f"/articles?tag={large.top_tag['name']}",
                 auth=False, kind="list"),
            dict(name="list by author",
                 path=f"/articles?author={large.top_author['username']}", auth=False,
                 kind="list"),
            dict(name="list favorited",
                 path=f"/articles?favorited={large.top_favoriter['username']}", auth=False,
                 kind="list"),
            dict(name="feed", path="/articles/feed", auth=True, kind="list"),
            dict(name="tags", path="/tags", auth=False, kind=None),
        ]
    return [
        dict(name="list articles", path="/articles", auth=False, kind="list"),
        dict(name="list articles, signed in", path="/articles", auth=True, kind="list"),
        dict(name="list by tag", path=f"/articles?tag={data.tag}", auth=False, kind="list"),
        dict(name="list by author", path=f"/articles?author={other}", auth=False,
             kind="list"),
        dict(name="list favorited", path=f"/articles?favorited={data.reader['username']}",
             auth=False, kind="list"),
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


def verdict(result: wrk.Result, ep: dict) -> tuple[str, bool]:
    """The issue's targets for this endpoint, and whether the run met all of them."""
    met = result.status["5xx"] == 0 and result.socket_errors == 0
    parts = []
    rps = TARGET_RPS.get(ep["name"])
    if rps:
        parts.append(f">= {rps} req/s")
        met = met and result.rps >= rps
    if ep["kind"] == "single":
        parts.append(f"p99 <= {SINGLE_TARGET_P99_MS} ms")
        met = met and result.p99_ms <= SINGLE_TARGET_P99_MS
    if ep["kind"] == "list" and result.cpu:
        parts.append(f"<= {LIST_TARGET_CPU_MS:g} CPU ms/req")
        met = met and cpu_ms_per_request(result) <= LIST_TARGET_CPU_MS
    parts.append("no 5xx")
    return ", ".join(parts), met


def load(stack, data, token: str, opts, only=None, warm=True, eps=None
         ) -> list[tuple[dict, wrk.Result]]:
    binary = wrk.ensure_wrk()
    out = []
    for ep in eps or endpoints(data):
        if only and ep["name"] not in only:
            continue
        kwargs = dict(wrk=binary, connections=opts.connections, threads=opts.threads,
                      headers={"Authorization": f"Token {token}"} if ep["auth"] else None,
                      script=ep.get("script"), args=ep.get("args", []))
        url = stack.api_url + ep["path"]
        if warm and opts.warmup:
            wrk.run(ep["name"], url, seconds=opts.warmup, **kwargs)
        meter, machine = procs.CpuMeter(), machine_speed.MachineCpu()
        meter.start()
        machine.start()
        result = wrk.run(ep["name"], url, seconds=opts.seconds, **kwargs)
        result.cpu = meter.stop()
        result.machine = machine.stop()
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
        target, met = verdict(r, ep)
        out.append({"name": r.name, "request": ep.get("request") or
                    f"{'GET ' + ep['path']}{' (signed in)' if ep['auth'] else ''}",
                    "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
                    "non_2xx": r.non_2xx, "5xx": r.status["5xx"], "status": r.status,
                    "socket_errors": r.socket_errors, "target": target,
                    "met": "yes" if met else "**no**", "cpu": r.cpu, "kind": ep["kind"],
                    "cpu_ms_per_request": cpu_ms_per_request(r), "machine": r.machine})
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
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", 1)),
                        help="size of the large data set (1: 1M articles); 0 skips it")
    parser.add_argument("--catch-up-timeout", type=float, default=900.0)
    parser.add_argument("--peers", help="the peers' DEST (../shared/peers setup); default "
                        "BENCH_PEERS or ~/conduit-peers when installed; 'none' skips them")
    return parser.parse_args(argv)


def summary(r: wrk.Result) -> dict:
    return {"name": r.name, "rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms,
            "non_2xx": r.non_2xx, "5xx": r.status["5xx"], "socket_errors": r.socket_errors,
            "cpu_ms_per_request": cpu_ms_per_request(r) if r.cpu else None,
            "machine": r.machine}


def write_mix(stack, data, token: str, opts) -> dict | None:
    """Favorites (reader) and follow/unfollow + PUT /user (another user) at the same
    time, half the connections each; the projectors' /status before and after."""
    urls = projectors.status_urls(getattr(stack, "env", None))
    if not urls:
        print("no projector processes found: skipping the projection lag", flush=True)
        return None
    binary = wrk.ensure_wrk()
    favorite = next(ep for ep in endpoints(data) if ep["name"] == "favorite + unfavorite")
    writer = data.users[2]
    targets = [u["username"] for u in data.users[10:20]]
    half = max(1, opts.connections // 2)
    before = projectors.status(urls)
    started = time.time()
    print(f"write mix: favorites + follow/unfollow/PUT /user, {half} connections each; "
          f"projectors at {', '.join(f'{k} {v}' for k, v in urls.items())}", flush=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(wrk.run, "favorite + unfavorite (mixed)",
                        stack.api_url + favorite["path"], wrk=binary, seconds=opts.seconds,
                        connections=half, threads=1,
                        headers={"Authorization": f"Token {token}"}, script="favorite.lua",
                        args=favorite["args"]),
            pool.submit(wrk.run, "follow, unfollow, PUT /user", stack.api_url + "/",
                        wrk=binary, seconds=opts.seconds, connections=half, threads=1,
                        headers={"Authorization": f"Token {writer['token']}"},
                        script="social.lua", args=targets),
        ]
        results = [run.result() for run in runs]
    time.sleep(2)   # the last events of the run reach the projectors
    after = projectors.status(urls, since=started)   # the mix's events only, not the seed's
    for r in results:
        print(f"  {r.name:28} {r.rps:7.0f} req/s  p99 {r.p99_ms:6.1f} ms  "
              f"non-2xx {r.non_2xx}  5xx {r.status['5xx']}", flush=True)
    for service, projections in after.items():
        for proj in projections:
            lag = proj.get("lag_ms") or {}
            print(f"  lag {service}/{proj['name']}: p50 {lag.get('p50')} ms, p99 "
                  f"{lag.get('p99')} ms, max {lag.get('max')} ms ({lag.get('samples')} "
                  f"samples, state {proj['state']})", flush=True)
    return {"connections_each": half, "results": [summary(r) for r in results],
            "before": before, "after": after}


def sign_in(api_url: str, email: str) -> str:
    resp = requests.post(f"{api_url}/users/login",
                         json={"user": {"email": email, "password": seed.PASSWORD}}, timeout=30)
    resp.raise_for_status()
    return resp.json()["user"]["token"]


def scale_phase(stack, data, opts, state_dir: Path, speeds: machine_speed.PhaseProbes
                ) -> tuple[bulk_load.Loaded, list]:
    """Bulk-load the large set into the running stack's database, wait for the
    projectors, then load the SCALE_ENDPOINTS at their heaviest."""
    urls = bulk_load.urls_from_run_dir(state_dir, int(stack.env["PGPORT"]))
    sizes = bulk_load.Sizes.scaled(opts.scale)
    print(f"bulk-loading the large data set: {sizes}", flush=True)
    loaded = bulk_load.bulk_load(urls, sizes, catch_up_timeout=opts.catch_up_timeout)
    for step, seconds in loaded.timings.items():
        print(f"  {step}: {seconds:.1f} s", flush=True)
    print(f"  heavy cases: feed of {loaded.feed_user}, author {loaded.top_author}, "
          f"favorited {loaded.top_favoriter}, tag {loaded.top_tag}", flush=True)
    token = sign_in(stack.api_url, loaded.feed_user["email"])
    print("load on the large data set", flush=True)
    # Probed around the load only: the bulk load before it takes minutes.
    with speeds.around(report.LARGE_PHASE):
        results = load(stack, data, token, opts, eps=endpoints(data, large=loaded))
    return loaded, results


def scale_rows(small: list, large: list) -> list[dict]:
    by_name = {r.name: (ep, r) for ep, r in small}
    out = []
    for ep, r in large:
        _, s = by_name[r.name]
        ratio = r.p99_ms / s.p99_ms if s.p99_ms else float("inf")
        out.append({"name": r.name, "request": ep["path"], "small_rps": s.rps,
                    "large_rps": r.rps, "small_p99": s.p99_ms, "large_p99": r.p99_ms,
                    "ratio": ratio, "large_5xx": r.status["5xx"],
                    "small_cpu_ms": cpu_ms_per_request(s),
                    # the stack's share of the machine: what the rest of the machine left it
                    "small_share": sum(s.cpu.values()), "large_share": sum(r.cpu.values()),
                    "large_cpu_ms": cpu_ms_per_request(r),
                    "met": ratio <= SCALE_TARGET_RATIO and r.status["5xx"] == 0})
    return out


def peers_phase(dest: Path, opts, stamp: str, ours: list,
                speeds: machine_speed.PhaseProbes) -> dict:
    """Seed each peer through its API like ours and run the same endpoints."""
    found = {}
    with peers.Peers(dest, REPORTS / f"peers-{stamp}.log") as running:
        for name, url in running.urls.items():
            print(f"seeding the {name} peer through {url}", flush=True)
            t0 = time.monotonic()
            try:
                pdata = seed.seed(url)
            except (seed.SeedError, requests.RequestException) as ex:
                print(f"  seeding {name} failed: {ex}", flush=True)
                found[name] = {"error": str(ex)[:300], "results": {}}
                continue
            seeded = time.monotonic() - t0
            print(f"load on the {name} peer", flush=True)
            with speeds.around(report.peer_phase(name)):
                results = load(RunningStack(url), pdata, pdata.reader["token"], opts)
            found[name] = {"url": url, "seeded_s": seeded,
                           # (their CPU is not measured: not our processes)
                           "results": {r.name: {**summary(r), "cpu_ms_per_request": None}
                                       for _, r in results}}
    rows = []
    for ep, r in ours:
        row = {"name": r.name, "ours": r.rps, "ours_p99": r.p99_ms, "peers": {}}
        for name, got in found.items():
            row["peers"][name] = got["results"].get(r.name)
        rates = [(p["rps"], n) for n, p in row["peers"].items() if p]
        if rates:
            best_rps, best = max(rates)
            row["best"] = best
            row["ratio"] = r.rps / best_rps if best_rps else float("inf")
        rows.append(row)
    ratios = [row["ratio"] for row in rows if math.isfinite(row.get("ratio", math.inf))]
    return {"dest": str(dest), "peers": {n: {k: v for k, v in p.items() if k != "results"}
                                         for n, p in found.items()},
            "rows": rows,
            "geomean": math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else 0}


def main(argv=None) -> int:
    opts = parse_args(argv)
    wrk.ensure_wrk()
    REPORTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    workers = os.environ.get("WEB_CONCURRENCY", "2")
    # Unset: each service's own default (gunicorn.conf.py), as `make run` starts it.
    threads = os.environ.get("GUNICORN_THREADS", "")
    state_dir = ROOT / ".run" / "bench"
    peers_dest = peers.find(opts.peers)
    scale = opts.scale > 0 and not opts.url
    if opts.url:
        stack = RunningStack(opts.url)
    else:
        shutil.rmtree(state_dir, ignore_errors=True)   # fresh data every run
        stack = Stack.with_free_ports(
            {"WEB_CONCURRENCY": workers, "LOG_LEVEL": "WARNING", **GATEWAY_LIMITS,
             **({"GUNICORN_THREADS": threads} if threads else {})},
            state_dir, REPORTS / f"stack-{stamp}-gthread.log", "gthread")
    compare_sync = not opts.no_compare and not opts.url
    run = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": report.machine()}
    sampler = procs.RssSampler()
    speeds = machine_speed.PhaseProbes()
    loaded, large_results = None, None
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
        if not opts.url:
            print("analyzing the seeded tables (as autovacuum would)", flush=True)
            bulk_load.analyze_everything(
                bulk_load.urls_from_run_dir(state_dir, int(stack.env["PGPORT"])))
        sampler.stop()
        run["rss_seeding"] = dict(sampler.peak)
        sampler = procs.RssSampler()
        sampler.start()
        run["loadavg_before"] = os.getloadavg()
        token = data.reader["token"]
        observed = sorted(set(procs.thread_counts("articles")))
        print(f"load: {opts.connections} connections, {opts.threads} threads, "
              f"{opts.seconds} s per endpoint", flush=True)
        with speeds.around(report.MAIN_PHASE):
            main_results = load(stack, data, token, opts)
        missed = [r.name for ep, r in main_results if not verdict(r, ep)[1]]
        to_profile = pick_profiled(main_results, missed, opts.profile)
        profiles = profile(stack, data, token, to_profile, opts, stamp) if to_profile else {}
        with speeds.around(report.LAG_PHASE):
            run["lag"] = write_mix(stack, data, token, opts)
        run["loadavg_after"] = os.getloadavg()
        sampler.stop()
        if scale and not compare_sync:
            loaded, large_results = scale_phase(stack, data, opts, state_dir, speeds)
    run["rss"], run["rss_processes"] = dict(sampler.peak), dict(sampler.processes)

    compare = None
    if compare_sync:
        # INTERNAL_WORKER=shared: the owners' extra internal worker is a gthread feature,
        # and without it each service gets the same number of sync processes.
        sync_settings = {"WEB_CONCURRENCY": workers, "GUNICORN_THREADS": "1",
                         "GUNICORN_CMD_ARGS": "--worker-class sync --threads 1",
                         "INTERNAL_WORKER": "shared",
                         "LOG_LEVEL": "WARNING"}
        sync_stack = Stack(
            {**stack.env, **sync_settings}, REPORTS / f"stack-{stamp}-sync.log", "sync")
        print("restarting the stack with sync workers", flush=True)
        sync_results, sync_observed, sync_error = [], [], None
        with sync_stack:
            procs.limit_to(sync_stack.process.pid, str(state_dir))
            sync_observed = sorted(set(procs.thread_counts("articles")))
            try:
                sync_token = signed_in_token(sync_stack, data)
                sync_results = load(sync_stack, data, sync_token, opts, only=COMPARED)
            except requests.RequestException as ex:
                # The owners' feeds long-poll (up to 5 s): with one thread per worker,
                # the projectors' polls occupy every auth worker and sign-in times out.
                sync_error = f"the stack could not serve with sync workers: {ex}"
                print(sync_error, flush=True)
        by_name = {r.name: r for _, r in main_results}
        compare_rows = []
        for _, r in sync_results:
            g = by_name[r.name]
            compare_rows.append({"name": r.name, "gthread": g.rps, "sync": r.rps,
                                 "ratio": g.rps / r.rps if r.rps else float("inf"),
                                 "gthread_p99": g.p99_ms, "sync_p99": r.p99_ms,
                                 "sync_5xx": r.status["5xx"]})
        ratios = [row["ratio"] for row in compare_rows if math.isfinite(row["ratio"])]
        compare = {"rows": compare_rows, "error": sync_error,
                   "geomean": math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else 0,
                   "sync_settings": "GUNICORN_CMD_ARGS='--worker-class sync --threads 1'",
                   "observed_threads": ", ".join(map(str, sync_observed))}
        # The overhead knobs, on the small data set like the default run.
        run["variants"] = [overhead_variant(stack, data, opts, state_dir, stamp, main_results,
                                            label, settings, what)
                           for label, settings, what in VARIANTS]
        if scale:
            # the same stack (database, settings, ports) again with gthread workers
            large_stack = Stack(stack.env, REPORTS / f"stack-{stamp}-gthread-large.log",
                                "gthread, large data set")
            with large_stack:
                procs.limit_to(large_stack.process.pid, str(state_dir))
                loaded, large_results = scale_phase(large_stack, data, opts, state_dir,
                                                    speeds)

    if loaded is not None:
        run["scale"] = {"sizes": loaded.sizes, "timings": loaded.timings,
                        "counts": loaded.counts, "feed_user": loaded.feed_user,
                        "top_author": loaded.top_author,
                        "top_favoriter": loaded.top_favoriter, "top_tag": loaded.top_tag,
                        "restarted": compare_sync,
                        "rows": scale_rows(main_results, large_results)}

    if peers_dest is not None:
        procs.limit_to(None, None)
        try:
            run["peers"] = peers_phase(peers_dest, opts, stamp, main_results, speeds)
        except Exception as ex:  # noqa: BLE001 - keep what was measured so far
            print(f"the peers phase failed: {ex!r}", flush=True)
            run["peers_error"] = repr(ex)

    table = [(r, verdict(r, ep)[0] + (" ok" if verdict(r, ep)[1] else " MISSED"))
             for ep, r in main_results]
    print()
    print(report.console(table, f"gthread workers (WEB_CONCURRENCY={workers}, "
                                f"threads={threads or THREADS_BY_DEFAULT})"))
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
    if run.get("scale"):
        print("\nsmall -> large p99: " + ", ".join(
            f"{row['name']} {row['small_p99']:.0f} -> {row['large_p99']:.0f} ms "
            f"({row['ratio']:.2f}x)" for row in run["scale"]["rows"]))
    if run.get("peers"):
        print("\nours / best peer (req/s): " + ", ".join(
            f"{row['name']} {row['ratio']:.2f} ({row['best']})"
            for row in run["peers"]["rows"] if "ratio" in row))

    result_rows = rows(main_results)
    for row in result_rows:
        row["request"] = shorten_paths(row["request"], data)
    run.update({
        "settings": {"launcher": " ".join(launcher_command()) if not opts.url else opts.url,
                     "workers": workers, "threads": threads or THREADS_BY_DEFAULT,
                     "worker_class": "SplitPoolThreadWorker",
                     "observed_threads": ", ".join(map(str, observed)) or "?",
                     "connections": opts.connections, "wrk_threads": opts.threads,
                     "seconds": opts.seconds, "warmup": opts.warmup,
                     "gateway_limits": "" if opts.url else ", ".join(
                         f"{k}={v}" for k, v in GATEWAY_LIMITS.items())},
        "data": {"users": 20, "articles_per_user": 10, "tags": len(seed.TAGS),
                 "follows": 100, "favorites": 200, "comments": 410, "seconds": seeded_s},
        "results": result_rows,
        "machine_speed": speeds.records,
        "machine_speed_reference_s": machine_speed.REFERENCE_SECONDS,
        "socket_errors": sum(r.socket_errors for _, r in main_results),
        "total_5xx": sum(r.status["5xx"] for _, r in main_results),
        "compare": compare,
        "profiles": profiles,
        "targets": {"rps": TARGET_RPS, "single_p99_ms": SINGLE_TARGET_P99_MS,
                    "list_cpu_ms": LIST_TARGET_CPU_MS, "scale_ratio": SCALE_TARGET_RATIO,
                    "lag_p99_ms": LAG_TARGET_P99_MS},
    })
    (REPORTS / f"bench-{stamp}.json").write_text(json.dumps(run, indent=2, default=str))
    if not opts.no_write:
        report.write_section(report.section(run))
        print(f"\nwrote the '{report.HEADING}' section of {report.BENCHMARKS.relative_to(ROOT)}")
    all_missed = missed + missed_elsewhere(run)
    missed_text = ", ".join(all_missed) if all_missed else "none"
    print(f"targets missed: {missed_text}; raw results in {REPORTS.relative_to(ROOT)}/")
    return 0


def missed_elsewhere(run: dict) -> list[str]:
    """The large set's p99 ratios and the projection lag that missed their targets
    (the small set's endpoints are judged by `verdict` as they run)."""
    out = [f"large set {row['name']} (p99 {row['ratio']:.2f}x)"
           for row in (run.get("scale") or {}).get("rows", []) if not row["met"]]
    for service, projections in ((run.get("lag") or {}).get("after") or {}).items():
        for projection in projections:
            p99 = (projection.get("lag_ms") or {}).get("p99")
            if p99 is not None and p99 > LAG_TARGET_P99_MS:
                out.append(f"lag {service}/{projection['name']} (p99 {p99:.0f} ms)")
    return out


if __name__ == "__main__":
    sys.exit(main())

"""Console table and the "## API throughput" section of docs/benchmarks.md."""
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
HEADING = "## API throughput"
COMPONENT_ORDER = ("gateway", "articles", "profiles", "auth", "projectors", "postgres", "wrk")
# The phases run_bench probes the machine's speed around (bench/machine_speed.py).
MAIN_PHASE = "small data set"
LAG_PHASE = "write mix"
LARGE_PHASE = "large data set"


def peer_phase(name: str) -> str:
    return f"{name} peer"


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory": f"{mem_gib:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": ", ".join(f"{name} {_version(name)}" for name in
                              ("falcon", "gunicorn", "SQLAlchemy", "orjson", "requests")),
        "nginx": _command_version(["nginx", "-v"]),
        "postgres": _command_version(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "wrk": _command_version(["wrk", "--version"]).split(" [")[0],
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _command_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0].replace("nginx version: ", "") if text else "?"


def console(results, title: str) -> str:
    lines = [title, f"{'endpoint':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
                    f"{'non-2xx':>8} {'5xx':>6} {'sock err':>8}  target"]
    for r, verdict in results:
        lines.append(f"{r.name:32} {r.rps:8.0f} {r.p50_ms:8.1f} {r.p99_ms:8.1f} "
                     f"{r.non_2xx:8d} {r.status['5xx']:6d} {r.socket_errors:8d}  {verdict}")
    return "\n".join(lines)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"


def section(run: dict) -> str:
    m = run["machine"]
    out = [HEADING, ""]
    out.append(f"Written by `make bench` (`bench/run_bench.py`) on {run['date']}; re-run it "
               "to refresh this section. Numbers from one run on a shared machine: compare "
               "ratios within a run rather than absolute values across runs.")
    out += ["", "### Setup", ""]
    out.append(f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, Linux "
               f"{m['kernel']}; everything (Postgres, 3 services, 2 projectors, nginx, wrk; "
               "the peers when loaded) on this machine, loopback only.")
    out.append(f"- Software: Python {m['python']}, {m['versions']}; nginx {m['nginx']}; "
               f"{m['postgres']}; {m['wrk']}.")
    s = run["settings"]
    out.append(f"- Stack started by the `make run` launcher (`{s['launcher']}`): "
               f"WEB_CONCURRENCY={s['workers']} per service, gunicorn `{s['worker_class']}` "
               f"workers (gthread; auth and profiles add one worker that serves only the "
               f"internal port, articles gives it a pool of INTERNAL_THREADS in each "
               f"worker); public threads per worker: {s['threads']} (observed threads per worker: "
               f"{s['observed_threads']})" + (
                   f"; the gateway's login and registration rate limits raised "
                   f"({s['gateway_limits']}) so that the seeding is not refused."
                   if s.get("gateway_limits") else "."))
    out.append(f"- Load: wrk, {s['connections']} connections, {s['wrk_threads']} threads, "
               f"{s['seconds']} s per endpoint after a {s['warmup']} s warm-up, through the "
               "gateway at `/flask/api`.")
    d = run["data"]
    out.append(f"- Data seeded through the API: {d['users']} users x {d['articles_per_user']} "
               f"articles (2-3 tags each from a pool of {d['tags']}), {d['follows']} follows, "
               f"{d['favorites']} favorites, {d['comments']} comments; seeding took "
               f"{d['seconds']:.0f} s, then VACUUM ANALYZE of every table (as autovacuum "
               "leaves them), so that every endpoint is planned from the same statistics. "
               "Signed-in endpoints use a user who follows 5 authors (feed: 50 articles); "
               "list pages are the default 20 items.")
    tg = run.get("targets")
    if tg:
        out.append(f"- Targets (issue 14): req/s per endpoint as in the table; p99 <= "
                   f"{tg['single_p99_ms']} ms for single-object reads at 32 connections; "
                   f"<= {tg['list_cpu_ms']:g} ms of CPU per list request across the stack; "
                   f"no 5xx; on the large data set p99 <= {tg['scale_ratio']:g}x the small "
                   f"set's; projection lag p99 <= {tg['lag_p99_ms']} ms.")
    out += speed_section(run)
    out += ["", "### Results", ""]
    # Reports written before the speed probe have no speed to divide by: no column.
    probed = "machine_speed" in run
    speed = phase_speed(run, MAIN_PHASE)
    out.append("| endpoint | request | req/s |" + (" req/s at ref. speed |" if probed else "")
               + " p50 ms | p99 ms | non-2xx | 5xx | target | met |")
    out.append("|---|---|---:|" + ("---:|" if probed else "") + "---:|---:|---:|---:|---|---|")
    for row in run["results"]:
        at_reference = (f" {_at_speed(row['rps'], speed)} |" if probed else "")
        out.append(f"| {row['name']} | `{row['request']}` | {row['rps']:.0f} |{at_reference} "
                   f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['non_2xx']} | "
                   f"{row['5xx']} | {row['target']} | {row['met']} |")
    out.append("")
    before, after = run["loadavg_before"][0], run["loadavg_after"][0]
    out.append(f"Load average (1 min) of the machine before / after the load runs: "
               f"{before:.1f} / {after:.1f}" + (
                   " -- other work was running on the machine, so absolute numbers are low; "
                   "the ratios and the CPU split are the useful part."
                   if before > m["nproc"] + 1 else "."))
    out.append("")
    out.append(f"Socket errors (connect/read/write/timeout) over all endpoints: "
               f"{run['socket_errors']}. 5xx over all endpoints: {run['total_5xx']}.")
    split = any(row.get("machine") for row in run["results"])
    out += ["", "CPU used during each endpoint's run, as a share of the whole machine "
            f"({m['nproc']} CPUs = 100 %), the CPU time the stack spent per request, and "
            f"the rate that implies if the stack had the {m['nproc']} CPUs to itself "
            "(CPUs / CPU per request; an upper bound that ignores waiting)" + (
                "; and the whole machine's CPU time that stayed idle (the run did not keep "
                "the CPUs busy) or was stolen by the hypervisor (other VMs had the CPUs) "
                "during the run:" if split else ":"), ""]
    out.append("| endpoint | " + " | ".join(COMPONENT_ORDER) +
               " | total | CPU ms/request | implied req/s |" +
               (" machine idle / steal |" if split else ""))
    out.append("|---|" + "---:|" * (len(COMPONENT_ORDER) + 3 + split))
    for row in run["results"]:
        cpu = row["cpu"]
        cells = [f"{100 * cpu.get(c, 0):.0f} %" for c in COMPONENT_ORDER]
        per_request = row["cpu_ms_per_request"]
        implied = m["nproc"] * 1000 / per_request if per_request else 0
        out.append(f"| {row['name']} | " + " | ".join(cells) +
                   f" | {100 * sum(cpu.values()):.0f} % | {per_request:.1f} | {implied:.0f} |"
                   + (f" {_idle_steal(row.get('machine'))} |" if split else ""))
    out += ["", "Peak resident memory, summed over the gunicorn master and workers of each "
            "service, sampled every 0.5 s (seeding registers 20 users with argon2id, "
            "8 at a time):", ""]
    out.append("| service | processes | peak RSS under load | peak RSS while seeding |")
    out.append("|---|---:|---:|---:|")
    for service, peak in run["rss"].items():
        out.append(f"| {service} | {run['rss_processes'][service]} | {_mib(peak)} | "
                   f"{_mib(run['rss_seeding'][service])} |")
    out += scale_section(run) + lag_section(run) + peers_section(run)
    if run.get("compare"):
        c = run["compare"]
        out += ["", "### gthread vs sync workers", ""]
        out.append(f"Same data, same run; the stack restarted with `{c['sync_settings']}` "
                   f"(observed threads per worker: {c['observed_threads']}). Sync workers "
                   "close the connection after every response, so nginx's upstream keepalive "
                   "and the services' pooled sessions reconnect on every call, and each "
                   "worker serves one request at a time.")
        out += ["", "| endpoint | gthread req/s | sync req/s | gthread/sync | gthread p99 ms "
                    "| sync p99 ms | sync 5xx |", "|---|---:|---:|---:|---:|---:|---:|"]
        for row in c["rows"]:
            out.append(f"| {row['name']} | {row['gthread']:.0f} | {row['sync']:.0f} | "
                       f"{row['ratio']:.2f} | {row['gthread_p99']:.1f} | {row['sync_p99']:.1f} "
                       f"| {row['sync_5xx']} |")
        if c.get("error"):
            out += ["", f"**Sync workers do not work for this stack**: {c['error']}. Each owner's "
                    "feed long-polls for up to 5 s, so with one thread per worker the "
                    "projectors' polls occupy every auth worker; owners need threaded workers."]
        out.append("")
        out.append(f"Geometric mean of the ratios: {c['geomean']:.2f}.")
    for v in run.get("variants", []):
        out += ["", f"### Overhead: {v['label']}", ""]
        out.append(f"The stack restarted with `{v['settings']}`: {v['what']}. Ratio = "
                   "variant req/s / default req/s, same data, same run (after the default "
                   "run, so the machine's state may differ a little).")
        out += ["", "| endpoint | default req/s | variant req/s | variant/default | default p99 "
                    "ms | variant p99 ms | variant 5xx |", "|---|---:|---:|---:|---:|---:|---:|"]
        for row in v["rows"]:
            out.append(f"| {row['name']} | {row['base']:.0f} | {row['variant']:.0f} | "
                       f"{row['ratio']:.2f} | {row['base_p99']:.1f} | {row['variant_p99']:.1f} "
                       f"| {row['variant_5xx']} |")
        out += ["", f"Geometric mean of the ratios: {v['geomean']:.2f}."]
    if run.get("profiles"):
        out += ["", "### Where the CPU goes (py-spy)", ""]
        out.append("`py-spy record --gil --format raw --nonblocking` on every worker of each "
                   "service while the endpoint was under the same load (samples of the thread "
                   "holding the GIL: Python CPU work, not waiting); share of the samples per "
                   "library (innermost frame that belongs to a named library) and the top "
                   "functions by self time. Raw stacks are in `reports/bench/`.")
        for name, per_service in run["profiles"].items():
            out += ["", f"**{name}**", ""]
            for service, summary in per_service.items():
                if not summary["samples"]:
                    continue
                libs = ", ".join(f"{lib} {100 * share:.0f} %"
                                 for lib, share in summary["libraries"][:6])
                top = "; ".join(f"`{fn}` {100 * share:.0f} %"
                                for fn, share in summary["self"][:4])
                out.append(f"- {service} ({summary['samples']} samples): {libs}. "
                           f"Top self: {top}.")
    if ANALYSIS.exists():
        out += ["", ANALYSIS.read_text().strip()]
    return "\n".join(out).rstrip() + "\n"


def phase_speed(run: dict, phase: str) -> float | None:
    """The mean speed of the probes around a phase (None when none succeeded)."""
    speeds = [probe["speed"] for probe in run.get("machine_speed") or ()
              if probe["phase"] == phase and probe.get("speed")]
    return sum(speeds) / len(speeds) if speeds else None


def _at_speed(rps: float, speed: float | None) -> str:
    return "-" if speed is None else f"{rps / speed:.0f}"


def _idle_steal(split: dict | None) -> str:
    if not split:
        return "-"
    return f"{100 * split['idle']:.0f} % / {100 * split['steal']:.0f} %"


def speed_section(run: dict) -> list[str]:
    probes = run.get("machine_speed")
    if not probes:
        return []
    reference_ms = 1000 * run["machine_speed_reference_s"]   # written with the probes
    out = ["", "### Machine speed", ""]
    out.append(
        "This machine is shared and its speed moves by tens of percent from one minute to "
        "the next, so before and after each phase `bench/machine_speed.py` times a fixed "
        "CPU-bound probe: the same pure-Python dict, string and int work in one process per "
        f"CPU at once, the best of a few repetitions. Speed = {reference_ms:.0f} ms (the "
        "probe on this kind of machine at a quiet moment) / the probe's time: 1.0 = the quiet "
        "machine, 0.8 = 20 % slower. To compare runs made at different moments, compare "
        "req/s divided by the mean speed around the phase (\"req/s at ref. speed\" below) "
        "rather than raw req/s; where before and after differ much, the machine changed "
        "during the phase and its numbers are uncertain by about as much.")
    out += ["", "| phase | before: speed (probe ms) | after: speed (probe ms) |",
            "|---|---:|---:|"]
    phases = list(dict.fromkeys(probe["phase"] for probe in probes))
    for phase in phases:
        found = {probe["when"]: probe for probe in probes if probe["phase"] == phase}
        out.append(f"| {phase} | {_probe_cell(found.get('before'))} | "
                   f"{_probe_cell(found.get('after'))} |")
    return out


def _probe_cell(probe: dict | None) -> str:
    if probe is None:
        return "-"
    if not probe.get("speed"):
        return "failed"
    return f"{probe['speed']:.2f} ({1000 * probe['seconds']:.0f} ms)"


def _ms(value) -> str:
    return "?" if value is None else f"{value:.1f}"


def scale_section(run: dict) -> list[str]:
    sc = run.get("scale")
    if not sc:
        return []
    z, t = sc["sizes"], sc["timings"]
    target = run["targets"]["scale_ratio"]
    out = ["", "### Large data set", ""]
    out.append(
        f"`bench/bulk_load.py` loaded {z['users']:,} users, {z['follows']:,} follows, "
        f"{z['articles']:,} articles, {z['tags']:,} tags and {z['favorites']:,} favorites "
        "into the same stack" + (" (restarted with the same database after the sync-worker "
                                 "comparison)" if sc.get("restarted") else "") +
        ", through each service's own schema and role: COPY (users, follows, tags, favorite "
        "pairs) and `INSERT ... SELECT generate_series` (articles, article_tags, favorites, "
        "article_counts), with one `UserRegistered` / `FollowAdded` event per user / follow "
        "written to the owner's outbox in the same transaction, so the projectors filled "
        "their read models from the feed, as in production. Every loaded user shares one "
        "argon2id hash (of the seed's password, computed once with auth's parameters): "
        "registration cost is not what is measured here. Skewed on purpose: tag popularity "
        "is log-uniform (Zipf-like), authors, followees and favoriters are power-law, so "
        "every endpoint below is aimed at its heaviest case.")
    out.append("")
    out.append("| step | seconds |")
    out.append("|---|---:|")
    for name, seconds in t.items():
        if name.startswith("articles: ") and name != "articles: all owned data":
            name = "&nbsp;&nbsp;of which " + name   # the steps inside articles' transaction
        out.append(f"| {name} | {seconds:.1f} |")
    out.append("")
    out.append(
        f"Heaviest cases: the feed of `{sc['feed_user']['username']}` (follows "
        f"{sc['feed_user']['followees']} users), author `{sc['top_author']['username']}` "
        f"({sc['top_author']['articles']:,} articles), favorited by "
        f"`{sc['top_favoriter']['username']}` ({sc['top_favoriter']['favorites']:,} "
        f"favorites), tag `{sc['top_tag']['name']}` ({sc['top_tag']['articles']:,} "
        "articles). Row counts after the load: " + ", ".join(
            f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in sc["counts"].items())
        + ".")
    out += ["", f"Small vs large data set, same endpoints (target: large p99 <= {target:g}x "
            "small p99, no 5xx):", ""]
    out.append("| endpoint | large-set request | small req/s | large req/s | small p99 ms "
               "| large p99 ms | large / small p99 | large 5xx | CPU ms/req small -> large "
               "| met |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    small_cpu = {row["name"]: row.get("cpu_ms_per_request") for row in run["results"]}
    small_share = {row["name"]: sum(row["cpu"].values()) for row in run["results"]}
    for row in sc["rows"]:
        before = row.get("small_cpu_ms", small_cpu.get(row["name"]))
        out.append(f"| {row['name']} | `{row['request']}` | {row['small_rps']:.0f} | "
                   f"{row['large_rps']:.0f} | {row['small_p99']:.1f} | {row['large_p99']:.1f} "
                   f"| {row['ratio']:.2f} | {row['large_5xx']} | {_ms(before)} -> "
                   f"{row['large_cpu_ms']:.1f} | {'yes' if row['met'] else '**no**'} |")
    shares = [(row["name"], row.get("small_share", small_share.get(row["name"])),
               row.get("large_share")) for row in sc["rows"]]
    if all(large is not None for _, _, large in shares):
        out += ["", "Share of the machine the stack used during each run (small -> large); "
                "what it did not use went to other work on the machine: "
                + ", ".join(f"{name} {100 * small:.0f} -> {100 * large:.0f} %"
                            for name, small, large in shares) + "."]
    return out


def lag_section(run: dict) -> list[str]:
    lag = run.get("lag")
    if not lag:
        return []
    target = run["targets"]["lag_p99_ms"]
    out = ["", "### Projection lag", ""]
    out.append(
        f"Write mix on the small data set: `favorite + unfavorite` (the reader) and "
        f"`POST`/`DELETE /profiles/{{u}}/follow` + `PUT /user` (`bench/lua/social.lua`, "
        f"another user) at the same time, {lag['connections_each']} connections each. Lag = "
        "the owner's commit (the time its numbering trigger ran inside COMMIT) -> the batch "
        "committed in the consumer, as each projector's `/status?since=` reports it for the "
        "events applied during the mix. The seeding's events (registrations and follows "
        "through the API, before the mix) are given apart.")
    out += ["", "| load | req/s | p50 ms | p99 ms | non-2xx | 5xx |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in lag["results"]:
        out.append(f"| {r['name']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                   f"{r['non_2xx']} | {r['5xx']} |")
    out += ["", "| projector | projection (source) | seeding only: samples, p50 / p99 ms | "
            f"mix: samples | lag p50 ms | lag p99 ms | lag max ms | "
            f"p99 <= {target} ms |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for service, projections in lag["after"].items():
        before = {p["name"]: p for p in lag["before"].get(service, [])}
        for p in projections:
            lag_ms = p.get("lag_ms") or {}
            prior = before.get(p["name"], {}).get("lag_ms") or {}
            p99 = lag_ms.get("p99")
            met = "?" if p99 is None else ("yes" if p99 <= target else "**no**")
            out.append(f"| {service} | {p['name']} ({p['source']}) | {prior.get('samples')}, "
                       f"{_ms(prior.get('p50'))} / {_ms(prior.get('p99'))} | "
                       f"{lag_ms.get('samples')} | {_ms(lag_ms.get('p50'))} | {_ms(p99)} | "
                       f"{_ms(lag_ms.get('max'))} | {met} |")
    return out


def peers_section(run: dict) -> list[str]:
    pe = run.get("peers")
    if not pe:
        return []
    names = list(pe["peers"])
    out = ["", "### Side by side with the RealWorld peers", ""]
    out.append(
        "Same run, same machine, one after another: the Flask "
        "(gothinkster/flask-realworld-example-app, gunicorn 2 sync workers) and FastAPI "
        "(nsidnev/fastapi-realworld-example-app, uvicorn 2 workers) peers installed by "
        "`../shared/peers/setup`, each seeded through its API with the same scenario "
        "(`bench/seed.py`) and loaded with the same wrk scripts and settings. Ratio = our "
        "req/s / the best peer's. Mind the differences listed in `shared/peers/README.md`: "
        "the Flask peer's favorite logic is wrong (`favorited=` does not filter; "
        "favorite/unfavorite answers 500s), and both peers skip parts of the spec "
        "(e.g. Flask counts only the page).")
    out.append("")
    out.append("The peers' databases are not reset by the bench: each run adds its seed "
               "(20 users, 200 articles, ...) to what earlier runs left there.")
    errors = {n: p["error"] for n, p in pe["peers"].items() if p.get("error")}
    for name, error in errors.items():
        out += ["", f"The {name} peer could not be seeded: `{error}`."]
    out.append("")
    out.append("| endpoint | ours req/s | " + " | ".join(f"{n} req/s | {n} 5xx" for n in names)
               + " | ours / best peer | ours p99 ms | " + " | ".join(f"{n} p99 ms" for n in names)
               + " |")
    out.append("|---|---:|" + "---:|---:|" * len(names) + "---:|---:|" + "---:|" * len(names))
    for row in pe["rows"]:
        cells = []
        for n in names:
            p = row["peers"].get(n)
            cells.append(f"{p['rps']:.0f} | {p['5xx']}" if p else "- | -")
        p99s = [f"{row['peers'][n]['p99_ms']:.1f}" if row["peers"].get(n) else "-" for n in names]
        ratio = f"{row['ratio']:.2f} ({row['best']})" if "ratio" in row else "-"
        out.append(f"| {row['name']} | {row['ours']:.0f} | " + " | ".join(cells) +
                   f" | {ratio} | {row['ours_p99']:.1f} | " + " | ".join(p99s) + " |")
    out += ["", f"Geometric mean of ours / best peer: {pe['geomean']:.2f}."]
    return out


def write_section(text: str, path: Path = BENCHMARKS) -> None:
    """Replace our section (up to the next `## ` heading) or append it; keep the rest."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(HEADING)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        updated = current.rstrip() + "\n\n" + text
    path.write_text(updated.rstrip() + "\n")


def main(argv: list[str]) -> int:
    """Rewrite the section from a saved run (reports/bench/bench-*.json), e.g. after
    editing bench/analysis.md, without loading the stack again."""
    import json
    if len(argv) != 1:
        print("usage: python bench/report.py reports/bench/bench-<stamp>.json")
        return 2
    write_section(section(json.loads(Path(argv[0]).read_text())))
    print(f"wrote the '{HEADING}' section of {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))

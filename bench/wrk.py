"""Run wrk against one URL and return its numbers (parsed from lua/common.lua's JSON)."""
import json
import os
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).resolve().parent / "lua"


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing the Debian package", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        lock = ["-o", "DPkg::Lock::Timeout=300"]
        install = ["apt-get", *lock, "install", "-y", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=env, stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", *lock, "update"], env=env, stdout=subprocess.DEVNULL,
                           check=True)
            subprocess.run(install, env=env, stdout=subprocess.DEVNULL, check=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit("wrk is not installed: `apt-get install wrk` (Debian) and run again")


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status: dict
    errors: dict
    cpu: dict = field(default_factory=dict)
    wrk_cpu_s: float = 0.0
    machine: dict = field(default_factory=dict)   # machine_speed.cpu_split over the run

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        return self.status["3xx"] + self.status["4xx"] + self.status["5xx"]

    @property
    def socket_errors(self) -> int:
        e = self.errors
        return e["connect"] + e["read"] + e["write"] + e["timeout"]


def _script(endpoint_script: str | None) -> str:
    """wrk takes one script: the endpoint's part first, then the shared counting part."""
    parts = [(LUA / endpoint_script).read_text()] if endpoint_script else []
    parts.append((LUA / "common.lua").read_text())
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, prefix="bench-")
    with handle:
        handle.write("\n".join(parts))
    return handle.name


def run(name: str, url: str, *, wrk: str, seconds: int, connections: int, threads: int,
        headers: dict | None = None, script: str | None = None, args: list[str] = (),
        timeout_s: int = 5) -> Result:
    lua = _script(script)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               f"--timeout={timeout_s}s", "--latency", "-s", lua]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    command.append(url)
    if args:
        command += ["--", *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=seconds + timeout_s + 30)
    finally:
        os.unlink(lua)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed for {name} ({done.returncode}):\n{done.stdout}\n"
                           f"{done.stderr}")
    data = json.loads(line[len("BENCH_JSON "):])
    lat = data["latency_us"]
    return Result(name=name, requests=data["requests"], seconds=data["duration_us"] / 1e6,
                  p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000,
                  max_ms=lat["max"] / 1000, status=data["status"], errors=data["errors"],
                  wrk_cpu_s=wrk_cpu)

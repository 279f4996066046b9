"""Sample the service workers with py-spy while an endpoint is under load.

`--gil` keeps only the samples of the thread holding the GIL, i.e. Python CPU work:
without it, threads blocked in C (psycopg waiting for Postgres) count as busy.

`py-spy record --format raw` writes collapsed stacks ("frame;frame;frame count");
we keep the files and reduce them to the functions that use the most CPU, both
as the innermost frame (self) and anywhere on the stack (total), grouped by the
library they belong to, which is what says where a request's time goes.
"""
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# frame text is "function (path/to/file.py:line)"
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")
LIBRARIES = (
    ("orjson", "json encoding"), ("json", "json encoding"),
    ("sqlalchemy", "sqlalchemy"), ("psycopg", "psycopg (postgres driver)"),
    ("requests", "requests (internal HTTP)"), ("urllib3", "urllib3 (internal HTTP)"),
    ("http/client", "http.client (internal HTTP)"), ("marshmallow", "marshmallow"),
    ("falcon", "falcon"), ("gunicorn", "gunicorn"), ("jwt", "jwt"), ("argon2", "argon2"),
    ("logging", "logging"), ("conduit_common", "conduit_common"),
    ("conduit_", "service code"), ("socket", "sockets"), ("ssl", "ssl"),
    ("selectors", "gunicorn"), ("threading", "threads / locks"), ("queue", "threads / locks"),
)


def py_spy() -> str | None:
    return shutil.which("py-spy") or (
        str(Path(sys.executable).with_name("py-spy"))
        if Path(sys.executable).with_name("py-spy").exists() else None)


def start(pid: int, seconds: int, out: Path, rate: int = 200) -> subprocess.Popen:
    command = [py_spy(), "record", "--pid", str(pid), "--duration", str(seconds),
               "--rate", str(rate), "--format", "raw", "--output", str(out), "--nonblocking",
               "--gil"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def library(frame: str) -> str:
    match = FRAME.match(frame)
    path = match.group("file") if match else frame
    for needle, label in LIBRARIES:
        if needle in path:
            return label
    return "python stdlib / other"


def summarise(paths: list[Path], top: int = 8) -> dict:
    self_time: Counter = Counter()
    by_library: Counter = Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if not f.startswith("process ")
                      and not f.startswith("thread ")]
            if not frames:
                continue
            total += n
            self_time[short(frames[-1])] += n
            # the innermost frame that belongs to a named library, not stdlib plumbing
            by_library[innermost_library(frames)] += n
    if not total:
        return {"samples": 0, "self": [], "libraries": []}
    return {
        "samples": total,
        "self": [(name, n / total) for name, n in self_time.most_common(top)],
        "libraries": [(name, n / total) for name, n in by_library.most_common(top)],
    }


def innermost_library(frames: list[str]) -> str:
    for frame in reversed(frames):
        label = library(frame)
        if label not in ("python stdlib / other", "sockets", "threads / locks"):
            return label
    return library(frames[-1])


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    parts = match.group("file").split(os.sep)
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1:]
    return f"{match.group('func')} ({'/'.join(parts[-2:])})"

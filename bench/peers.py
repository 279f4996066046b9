"""The RealWorld peers of ../shared/peers (Flask, FastAPI): start, stop, where they answer.

`make bench` loads them with the same scenario in the same run when they are installed
(`shared/peers/setup FLASK_SRC FASTAPI_SRC [DEST]`): DEST from --peers, else BENCH_PEERS,
else $HOME/conduit-peers when it holds a setup (peers.env).
"""
import os
import re
import subprocess
from pathlib import Path

from stack import ROOT

SCRIPTS = ROOT.parent / "shared" / "peers"
PEERS = {"flask": ("FLASK_PEER_PORT", 5000), "fastapi": ("FASTAPI_PEER_PORT", 5001)}


def find(explicit: str | None) -> Path | None:
    """The peers' DEST, or None when they are not installed (or --peers none)."""
    if explicit == "none":
        return None
    candidates = [explicit, os.environ.get("BENCH_PEERS"),
                  str(Path.home() / "conduit-peers")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "peers.env").exists():
            return Path(candidate)
        if candidate and candidate == explicit:
            raise SystemExit(f"--peers {explicit}: no peers.env there; run "
                             f"{SCRIPTS}/setup FLASK_SRC FASTAPI_SRC {explicit} first")
    return None


def api_urls(dest: Path) -> dict[str, str]:
    """{peer: API root}, ports as recorded by setup (environment wins, as in start)."""
    recorded = {}
    text = (dest / "peers.env").read_text()
    for name, (variable, default) in PEERS.items():
        match = re.search(rf'\$\{{{variable}:=(\d+)\}}', text)
        port = os.environ.get(variable) or (match.group(1) if match else default)
        recorded[name] = f"http://127.0.0.1:{port}/api"
    return recorded


class Peers:
    """`start` on enter, `stop` on exit (both scripts are idempotent)."""

    def __init__(self, dest: Path, log_path: Path):
        self.dest = dest
        self.log_path = log_path
        self.urls = api_urls(dest)

    def _script(self, name: str, timeout: float) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            subprocess.run([str(SCRIPTS / name), str(self.dest)], stdout=log,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True,
                           timeout=timeout)

    def __enter__(self) -> "Peers":
        print(f"starting the peers from {self.dest}: " + ", ".join(
            f"{name} {url}" for name, url in self.urls.items()), flush=True)
        self._script("start", 180)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._script("stop", 120)
        except (subprocess.SubprocessError, OSError) as ex:
            print(f"warning: stopping the peers failed: {ex}", flush=True)

"""The RealWorld Postman suite, run with the pinned newman against a gateway."""
import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from conduit_dev.routes import ROOT

NEWMAN = ROOT / "node_modules" / ".bin" / "newman"
SKIP_MESSAGE = (
    "!!! REALWORLD CONFORMANCE RUN SKIPPED: the official Postman collection was not found "
    "(REALWORLD_POSTMAN is not set and ../shared/realworld/Conduit.postman_collection.json "
    "does not exist). Get api/Conduit.postman_collection.json from the RealWorld repository "
    "(https://github.com/gothinkster/realworld, now realworld-apps/realworld) and set "
    "REALWORLD_POSTMAN=/path/to/Conduit.postman_collection.json. Do not copy it into this "
    "repository. !!!")


class NewmanMissing(RuntimeError):
    """node_modules has no newman: `make node-tools` (npm ci) installs the pinned one."""


@dataclass(frozen=True)
class NewmanResult:
    returncode: int
    assertions: int
    failed_assertions: int
    failures: list[str]
    output: str


def collection_path(environ=None) -> Path | None:
    """REALWORLD_POSTMAN, else ../shared/realworld/ next to the checkout, else None."""
    environ = os.environ if environ is None else environ
    if environ.get("REALWORLD_POSTMAN"):
        return Path(environ["REALWORLD_POSTMAN"])
    shared = ROOT.parent / "shared" / "realworld" / "Conduit.postman_collection.json"
    return shared if shared.exists() else None


def _describe(failure: dict) -> str:
    where = failure.get("source", {}).get("name", "?")
    error = failure.get("error", {})
    return f"{where}: {error.get('test') or error.get('name', '')}: {error.get('message', '')}"


def run(api_url: str, collection: Path, report: Path, delay_ms: int = 0) -> NewmanResult:
    """One run with fresh user credentials; the JSON report is written to `report`."""
    if not NEWMAN.exists():
        raise NewmanMissing(f"{NEWMAN} not found: run `make node-tools` (npm ci)")
    user = f"e2e{secrets.token_hex(5)}"
    variables = {"APIURL": api_url, "USERNAME": user, "EMAIL": f"{user}@example.com",
                 "PASSWORD": secrets.token_urlsafe(12)}
    argv = [str(NEWMAN), "run", str(collection), "--color", "off",
            "--reporters", "cli,json", "--reporter-json-export", str(report)]
    if delay_ms > 0:
        argv += ["--delay-request", str(delay_ms)]
    for name, value in variables.items():
        argv += ["--global-var", f"{name}={value}"]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    run_data = json.loads(report.read_text())["run"] if report.exists() else {}
    stats = run_data.get("stats", {}).get("assertions", {})
    return NewmanResult(result.returncode, stats.get("total", 0), stats.get("failed", 0),
                        [_describe(f) for f in run_data.get("failures", [])],
                        result.stdout + result.stderr)

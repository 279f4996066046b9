"""Development secrets generated once into the run directory, never into the code."""
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from conduit_dev.config import SERVICES


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def conduit_secret(run_dir: Path, environ: Mapping[str, str]) -> str:
    """CONDUIT_SECRET from the environment, else the one stored in run_dir."""
    if environ.get("CONDUIT_SECRET"):
        return environ["CONDUIT_SECRET"]
    path = run_dir / "conduit-secret"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def db_passwords(run_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """<SERVICE>_DB_PASSWORD from the environment, else stored in run_dir (made once)."""
    path = run_dir / "db-passwords.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = [svc for svc in SERVICES if not stored.get(svc)]
    if missing:
        stored.update({svc: secrets.token_urlsafe(24) for svc in missing})
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return {svc: environ.get(f"{svc.upper()}_DB_PASSWORD") or stored[svc] for svc in SERVICES}

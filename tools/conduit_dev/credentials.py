"""Development secrets generated once into the run directory, never into the code."""
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from conduit_common import keys
from conduit_common.testing.postgres import password_keys, password_variable


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def token_keys(run_dir: Path) -> dict[str, Path]:
    """The stack's Ed25519 keys in run_dir/keys, generated on the first start and kept
    (a restart still accepts the tokens it issued). See conduit_common.keys."""
    return keys.ensure_dev_keys(run_dir / "keys")


def key_env(service: str, paths: dict[str, Path]) -> dict[str, str]:
    """What a service's API process gets: the public user-token keys, the public keys
    of the calling services, and for auth alone the private user-token key."""
    env = {"JWT_PUBLIC_KEYS_FILE": str(paths["user-token.jwks.json"]),
           "SERVICE_PUBLIC_KEYS_FILE": str(paths["service-keys.jwks.json"])}
    if service == keys.USER_TOKEN_OWNER:
        env["JWT_PRIVATE_KEY_FILE"] = str(paths["auth-user-token.pem"])
    return env


def projector_key_env(service: str, paths: dict[str, Path]) -> dict[str, str]:
    """What a projector gets: its service's own service key, nothing else."""
    return {"SERVICE_PRIVATE_KEY_FILE": str(paths[f"{service}-service.pem"])}


def db_passwords(run_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """Each service role's password: the runtime role's (`<svc>`, <SVC>_DB_PASSWORD) and
    the owner's (`<svc>_owner`, <SVC>_DB_OWNER_PASSWORD), from the environment, else
    stored in run_dir/db-passwords.json (made once; a key missing there, e.g. the
    owners' in a run directory from before the split, is added)."""
    path = run_dir / "db-passwords.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    missing = [key for key in password_keys() if not stored.get(key)]
    if missing:
        stored.update({key: secrets.token_urlsafe(24) for key in missing})
        _write_private(path, json.dumps(stored, indent=2) + "\n")
    return {key: environ.get(password_variable(key)) or stored[key] for key in password_keys()}

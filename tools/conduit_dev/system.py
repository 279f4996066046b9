"""Find system programs; install the Debian package when we are root and it is missing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path


class MissingProgram(RuntimeError):
    """A system program is missing and cannot be installed from here."""


def apt_install(*packages: str) -> None:
    """apt-get install, quietly: its output is shown only when it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {' '.join(packages)} with apt-get", flush=True)
    log = []

    def apt_get(*args: str) -> bool:
        result = subprocess.run(["apt-get", *args], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log.append(f"$ apt-get {' '.join(args)}\n{result.stdout}")
        return result.returncode == 0

    install = ("install", "-y", "--no-install-recommends", *packages)
    # The package lists may be missing or stale on a fresh machine: update once, retry.
    if apt_get(*install) or (apt_get("update") and apt_get(*install)):
        return
    print("".join(log), file=sys.stderr, flush=True)
    raise MissingProgram(f"apt-get install {' '.join(packages)} failed (its output is above)")


def ensure_program(name: str, package: str, extra_dirs: tuple[str, ...] = ("/usr/sbin",)
                   ) -> Path:
    """The program's path; apt-get install its package first if root and missing."""
    for attempt in range(2):
        found = shutil.which(name) or next(
            (str(Path(d) / name) for d in extra_dirs if (Path(d) / name).exists()), None)
        if found:
            return Path(found)
        if attempt == 0 and os.geteuid() == 0 and shutil.which("apt-get"):
            apt_install(package)
    raise MissingProgram(f"{name} not found: install it (e.g. `sudo apt-get install {package}`) "
                         "and run again")

"""Find system programs; install the Debian package when we are root and it is missing."""
import os
import shutil
import subprocess
from pathlib import Path


class MissingProgram(RuntimeError):
    """A system program is missing and cannot be installed from here."""


def apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"installing {' '.join(packages)} with apt-get", flush=True)
    if subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages],
                      env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *packages],
                       env=env, check=True)


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

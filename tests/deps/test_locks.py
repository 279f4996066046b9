"""The hash locks (requirements.txt, requirements-dev.txt) against what is declared.

Every dependency a pyproject.toml or requirements-dev.in names must be pinned in the
lock that installs it, at a version its range allows, with hashes: a dependency added
or re-ranged without `make lock` fails here, offline, before any image is built.
"""
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
# The local packages, as requirements.in lists them for the lock to read.
PACKAGES = tuple(line.strip().removeprefix("./")
                 for line in (ROOT / "requirements.in").read_text().splitlines()
                 if line.startswith("./"))
RUNTIME_LOCK = ROOT / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"
LINT_LOCK = ROOT / "ci" / "requirements-lint.txt"
LOCKS = [RUNTIME_LOCK, DEV_LOCK, LINT_LOCK]
# What the locks are resolved for (mk/deps.mk): the images' CPython 3.11 on Linux.
TARGET = {"python_version": "3.11", "python_full_version": "3.11.0",
          "sys_platform": "linux", "platform_system": "Linux",
          "platform_machine": "x86_64", "os_name": "posix",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def read_lock(path: Path) -> dict[str, tuple[Version, list[str]]]:
    """{canonical name: (pinned version, its sha256 hashes)} of a uv/pip-compile lock."""
    entries, name = {}, None
    for line in path.read_text().splitlines():
        stripped = line.strip().rstrip("\\").strip()
        if pin := PIN.match(stripped):
            name = canonicalize_name(pin.group(1))
            entries[name] = (Version(pin.group(2)), [])
        elif stripped.startswith("--hash=sha256:") and name:
            entries[name][1].append(stripped.removeprefix("--hash=sha256:"))
        elif stripped and not stripped.startswith("#"):
            pytest.fail(f"{path.name}: unexpected line {line!r}")
    return entries


def local_names() -> set[str]:
    return {canonicalize_name(pyproject(p)["project"]["name"]) for p in PACKAGES}


def pyproject(package: str) -> dict:
    return tomllib.loads((ROOT / package / "pyproject.toml").read_text())


def declared_in_pyprojects() -> list[tuple[str, Requirement]]:
    """(where, requirement) for each package's dependencies and build backend."""
    found = []
    for package in PACKAGES:
        data = pyproject(package)
        for spec in data["project"].get("dependencies", []):
            found.append((f"{package}/pyproject.toml", Requirement(spec)))
        for spec in data["build-system"]["requires"]:
            found.append((f"{package}/pyproject.toml [build-system]", Requirement(spec)))
    return found


def declared_in(path: Path) -> list[tuple[str, Requirement]]:
    """The requirements of a .in file, without its -r/-c lines and local folders."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-", "./")):
            found.append((path.name, Requirement(line)))
    return found


def missing_or_outside(declared, lock: dict) -> list[str]:
    problems = []
    for where, requirement in declared:
        name = canonicalize_name(requirement.name)
        if name in local_names():
            continue
        if requirement.marker and not requirement.marker.evaluate(TARGET):
            continue
        if name not in lock:
            problems.append(f"{where}: {requirement} is not in the lock")
        elif not requirement.specifier.contains(lock[name][0], prereleases=True):
            problems.append(f"{where}: {requirement}, but the lock pins {lock[name][0]}")
    return problems


def test_requirements_in_lists_every_package_of_the_tree():
    found = {str(p.parent.relative_to(ROOT)) for p in ROOT.glob("services/*/pyproject.toml")}
    assert set(PACKAGES) == found | {"libs/common"}


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda p: p.name)
def test_every_pyproject_dependency_is_locked_within_its_range(lock):
    problems = missing_or_outside(declared_in_pyprojects(), read_lock(lock))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


@pytest.mark.parametrize("source", ["requirements.in", "requirements-dev.in"])
def test_every_dev_requirement_is_locked_within_its_range(source):
    problems = missing_or_outside(declared_in(ROOT / source), read_lock(DEV_LOCK))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_the_runtime_lock_holds_what_requirements_in_names():
    problems = missing_or_outside(declared_in(ROOT / "requirements.in"), read_lock(RUNTIME_LOCK))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_every_pin_has_sha256_hashes_and_no_local_package_is_pinned(lock):
    entries = read_lock(lock)
    assert entries
    assert not [name for name, (_, hashes) in entries.items() if not hashes]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for _, hashes in entries.values() for h in hashes)
    assert not local_names() & entries.keys()


@pytest.mark.parametrize("narrow, wide", [(RUNTIME_LOCK, DEV_LOCK), (LINT_LOCK, DEV_LOCK)],
                         ids=["images-vs-dev", "lint-vs-dev"])
def test_development_runs_the_versions_the_images_and_lint_job_run(narrow, wide):
    pins, dev = read_lock(narrow), read_lock(wide)
    differ = {name: (version, dev[name][0]) for name, (version, _) in pins.items()
              if name not in dev or dev[name][0] != version}
    assert not differ, f"{narrow.name} vs {wide.name} pins differ, run `make lock`: {differ}"


def test_the_lint_job_installs_the_flake8_of_the_dev_tools():
    problems = missing_or_outside(declared_in(ROOT / "ci" / "requirements-lint.in"),
                                  read_lock(LINT_LOCK))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)

"""Each service's real `test` and `lint` jobs, run by gitlab-ci-local on this host.

--force-shell-executor runs the job scripts here instead of in their images;
--shell-isolation gives each job its own copy of the repository. The job's
`services: postgres` cannot start without a container engine (gitlab-ci-local
creates a container network for any job with services, even on the shell
executor), so these runs use a copy of the repository whose `.with-postgres`
template has no `services:` block, and DATABASE_URL points the jobs at a Postgres
of our own.
pip installs from a local wheelhouse filled once (offline afterwards), because
fetching each job's packages from the index takes minutes here.
"""
import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest


SERVICES = ("auth", "profiles", "articles")
# The summary gitlab-ci-local ends with, e.g. " PASS  [1.7 min] test 80% coverage".
RESULT_LINE = re.compile(r"^ (PASS|WARN|FAIL) +(?:\[[^]]*\] +)?(\S+)", re.MULTILINE)
pytestmark = pytest.mark.slow


def install_targets(repo: Path):
    """What the jobs pip-install from the index: the hash locks (the local packages
    are installed from their folders, built with the locked setuptools)."""
    return ["-r", repo / "requirements-dev.txt", "-r", repo / "ci" / "requirements-lint.txt"]


# The `services:` block of `.with-postgres` (what the jobs with a database extend):
# the lines after `.with-postgres:` up to it stay.
POSTGRES_SERVICES = re.compile(
    r"^(\.with-postgres:\n(?:  (?!services:).*\n)*)  services:\n(?:    .*\n)+", re.MULTILINE)
# Services whose pipeline also runs its callers' contract tests (their `consumers`).
WITH_CONSUMERS = {"auth": ("profiles", "articles"), "profiles": ("articles",)}


def drop_job_services(repo: Path):
    """Remove the Postgres `services:` block from the job template."""
    template = repo / "ci" / "service.gitlab-ci.yml"
    text, removed = POSTGRES_SERVICES.subn(r"\1", template.read_text())
    assert removed == 1, "no services: block in .with-postgres of ci/service.gitlab-ci.yml"
    template.write_text(text)


@pytest.fixture(scope="session")
def job_sandbox(new_sandbox):
    return new_sandbox("ci-jobs", prepare=drop_job_services)


@pytest.fixture(scope="session")
def wheelhouse(job_sandbox):
    """A folder of every wheel the jobs need, filled from the index when what they
    install (the locks) changed since it was last filled."""
    folder = Path(os.environ.get("CONDUIT_CI_WHEELHOUSE")
                  or Path.home() / ".cache" / "conduit-ci" / "wheels")
    folder.mkdir(parents=True, exist_ok=True)
    targets = install_targets(job_sandbox.path)
    digest = hashlib.sha256()
    for target in map(Path, targets):
        digest.update(target.read_bytes() if target.is_file() else str(target).encode())
    stamp = folder / ".filled-for"
    if not stamp.exists() or stamp.read_text() != digest.hexdigest():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(folder),
             *map(str, targets)], env={**os.environ, "PIP_REQUIRE_VIRTUALENV": "0"},
            capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr
        stamp.write_text(digest.hexdigest())
    return folder


@pytest.fixture(scope="session")
def job_runs(job_sandbox, wheelhouse, postgres_admin_url):
    """{service: (exit code, output, state dir)} of its `test` and `lint`; the three
    services run at the same time, each with a state dir of its own."""
    for service in SERVICES:
        assert (job_sandbox.path / "services" / service / "tests").is_dir(), (
            f"services/{service}/tests does not exist yet")
    started = {}
    outputs = {service: job_sandbox.path.parent / f"gitlab-ci-local-{service}.out"
               for service in SERVICES}
    for service in SERVICES:
        state = f".gitlab-ci-local-{service}"
        started[service] = job_sandbox.gcl_start(
            "--file", f"services/{service}/.gitlab-ci.yml", "--state-dir", state,
            "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source",
            "--variable", f"DATABASE_URL={postgres_admin_url}", "--variable", "PIP_NO_INDEX=1",
            "--variable", f"PIP_FIND_LINKS={wheelhouse}", "--variable", "PIP_NO_CACHE_DIR=1",
            "--variable", "PIP_NO_COMPILE=1", "--timestamps", "test", "lint",
            *(["consumer-contracts"] if service in WITH_CONSUMERS else []),
            output=outputs[service])
    results = {}
    for service, process in started.items():
        process.wait(timeout=900)
        output = outputs[service].read_text()
        results[service] = (process.returncode, output,
                            job_sandbox.path / f".gitlab-ci-local-{service}")
    return results


def outcome(output, job):
    """PASS, WARN (failed but allowed to) or FAIL, from gitlab-ci-local's summary."""
    found = {name: word for word, name in RESULT_LINE.findall(output)}
    return found.get(job)


def test_service_test_job_runs_the_service_tests_and_passes(job_runs, service):
    code, output, state = job_runs[service]
    assert outcome(output, "test") == "PASS", output[-6000:]
    assert code == 0, output[-6000:]
    report = ET.parse(state / "artifacts" / "test" / "reports" / "junit.xml").getroot()
    suites = [report] if report.tag == "testsuite" else list(report)
    assert sum(int(suite.get("tests")) for suite in suites) > 0
    assert sum(int(suite.get("failures")) + int(suite.get("errors")) for suite in suites) == 0
    assert (state / "artifacts" / "test" / "reports" / "coverage.xml").exists()


@pytest.mark.parametrize("provider", sorted(WITH_CONSUMERS))
def test_consumer_contracts_job_runs_the_callers_contract_tests_and_passes(
        job_runs, job_sandbox, provider):
    _, output, state = job_runs[provider]
    assert outcome(output, "consumer-contracts") == "PASS", output[-6000:]
    report = ET.parse(state / "artifacts" / "consumer-contracts" / "reports"
                      / "consumer-contracts.xml").getroot()
    cases = list(report.iter("testcase"))
    assert cases and not any(case.find("failure") is not None or case.find("error") is not None
                             for case in cases)
    # Every contract test module of every caller ran (module names are unique).
    expected = {path.stem for consumer in WITH_CONSUMERS[provider] for path in
                (job_sandbox.path / "services" / consumer / "tests" / "contract").glob("test_*.py")}
    ran = {case.get("classname", "") for case in cases}
    assert expected and all(any(module in name for name in ran) for module in expected), ran


def test_service_lint_job_passes(job_runs, service):
    _, output, _ = job_runs[service]
    assert outcome(output, "lint") == "PASS", output[-6000:]

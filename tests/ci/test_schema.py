"""Every CI file against GitLab's own JSON schema (check-jsonschema's vendored copy).

A file that starts with a `spec:` header is two YAML documents: the header is
checked alone, and the pipeline it makes is checked as gitlab-ci-local renders it.
"""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
PLAIN_FILES = [".gitlab-ci.yml", "ci/deploy-tools.gitlab-ci.yml",
               *(f"services/{service}/.gitlab-ci.yml" for service in SERVICES)]
TEMPLATE = "ci/service.gitlab-ci.yml"
# The services each one's contract tests start (the call graph in docs/architecture.md).
PEERS = {"auth": "", "profiles": "auth", "articles": "auth profiles"}


@pytest.fixture(scope="module")
def rendered(sandbox):
    """{name: YAML text} of the parent and each child as gitlab-ci-local expands them."""
    previews = {"parent": sandbox.gcl_run("--preview").stdout}
    for service in SERVICES:
        entry = f"services/{service}/.gitlab-ci.yml"
        previews[service] = sandbox.gcl_run("--file", entry, "--preview").stdout
    return previews


def test_every_ci_file_in_the_tree_is_checked():
    found = {str(p.relative_to(ROOT)) for p in ROOT.glob("**/*gitlab-ci.yml")
             if not {"node_modules", ".venv", ".gitlab-ci-local"} & set(p.parts)}
    assert found == {*PLAIN_FILES, TEMPLATE}


def test_template_is_a_spec_header_and_the_service_jobs():
    header, body = yaml.safe_load_all((ROOT / TEMPLATE).read_text())
    assert set(header) == {"spec"}
    assert set(header["spec"]["inputs"]) == {"service", "peers", "consumers"}
    assert {"test", "consumer-contracts", "lint", "pack", "deploy"} <= set(body)


def test_ci_files_and_rendered_pipelines_match_gitlab_schema(gitlab_schema, rendered):
    documents = {name.replace("/", "_"): (ROOT / name).read_text() for name in PLAIN_FILES}
    header = next(yaml.safe_load_all((ROOT / TEMPLATE).read_text()))
    documents["template-header"] = yaml.safe_dump(header)
    documents.update({f"rendered-{name}": text for name, text in rendered.items()})
    result = gitlab_schema(**documents)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_child_is_rendered_for_its_own_service(rendered):
    for service in SERVICES:
        child = yaml.safe_load(rendered[service])
        assert child["variables"]["SERVICE"] == service
        assert child["variables"]["PEERS"] == PEERS[service]
        assert child["test"]["cache"][0]["key"] == f"pip-{service}"
        assert {"test", "lint", "pack", "deploy"} <= set(child)


def test_parent_triggers_each_child_and_waits_for_it(rendered):
    parent = yaml.safe_load(rendered["parent"])
    for service in SERVICES:
        assert parent[service]["trigger"] == {
            "include": [{"local": f"services/{service}/.gitlab-ci.yml"}], "strategy": "depend"}


def test_schema_check_rejects_a_broken_pipeline(gitlab_schema):
    result = gitlab_schema(broken="test:\n  script: 5\n  when: sometimes\n")
    assert result.returncode != 0


def test_template_rejects_a_service_name_that_is_not_a_folder_name(sandbox):
    entry = sandbox.path / "bad.gitlab-ci.yml"
    entry.write_text(f"include:\n  - local: {TEMPLATE}\n    inputs:\n      service: Not A Name\n")
    try:
        result = sandbox.gcl_run("--file", entry.name, "--preview", check=False)
    finally:
        entry.unlink()
    assert result.returncode != 0
    assert "does not match required regex" in result.stdout + result.stderr

"""Which jobs and child pipelines a change starts, as gitlab-ci-local evaluates the
rules (`changes` against origin/main, which is the snapshot of the work tree)."""
TAG = "v1.2.3"
# What GitLab sets on a tag pipeline and gitlab-ci-local cannot guess from git.
TAG_PIPELINE = ("--variable", f"CI_COMMIT_TAG={TAG}", "--unset-variable", "CI_COMMIT_BRANCH")


CHILDREN = {"auth", "profiles", "articles"}


def children(jobs):
    return {name for name in jobs if name in CHILDREN}


def test_change_in_one_service_starts_only_its_child_pipeline(sandbox, service):
    sandbox.branch(f"change-{service}")
    sandbox.commit_file(f"services/{service}/ci-probe.txt")
    jobs = sandbox.jobs()
    assert children(jobs) == {service}
    assert jobs[service] == "on_success"


def test_change_in_libs_common_starts_every_child_pipeline(sandbox):
    sandbox.branch("change-common")
    sandbox.commit_file("libs/common/ci-probe.txt")
    assert children(sandbox.jobs()) == CHILDREN


def test_branch_without_changes_starts_nothing(sandbox):
    sandbox.branch("no-change")
    assert sandbox.jobs() == {}


def test_change_outside_services_starts_no_child_pipeline(sandbox):
    sandbox.branch("change-docs")
    sandbox.commit_file("docs/ci-probe.md")
    assert children(sandbox.jobs()) == set()


def test_tag_starts_every_child_pipeline_and_the_shared_deploy(sandbox):
    sandbox.branch("release")
    sandbox.commit_file("docs/ci-probe.md")
    jobs = sandbox.jobs(*TAG_PIPELINE)
    assert children(jobs) == CHILDREN
    assert jobs["deploy-shared"] == "on_success"
    assert jobs["e2e"] == "on_success"
    assert "cluster" not in jobs


def test_e2e_runs_when_a_service_changes(sandbox):
    sandbox.branch("change-articles-e2e")
    sandbox.commit_file("services/articles/ci-probe.txt")
    assert sandbox.jobs()["e2e"] == "on_success"


def test_cluster_job_is_manual_and_only_for_cluster_changes_on_main(sandbox):
    sandbox.branch("main")
    assert "cluster" not in sandbox.jobs()
    sandbox.commit_file("cluster/ci-probe.yaml")
    try:
        on_main = sandbox.jobs()
        sandbox.branch("change-cluster", start="main")
        on_branch = sandbox.jobs()
    finally:
        sandbox.branch("main", start="origin/main")
    assert on_main["cluster"] == "manual"
    assert on_main["deploy-shared"] == "manual"
    assert "cluster" not in on_branch


def test_service_deploy_is_automatic_on_tags_manual_on_main_absent_elsewhere(sandbox, service):
    entry = f"services/{service}/.gitlab-ci.yml"
    sandbox.branch(f"feature-{service}")
    on_branch = sandbox.jobs(file=entry)
    sandbox.branch("main", start="origin/main")
    on_main = sandbox.jobs(file=entry)
    on_tag = sandbox.jobs(*TAG_PIPELINE, file=entry)
    callers = {"auth": {"consumer-contracts"}, "profiles": {"consumer-contracts"}}
    assert set(on_branch) == {"test", "lint", "pack"} | callers.get(service, set())
    assert on_main["deploy"] == "manual"
    assert on_tag["deploy"] == "on_success"
    assert {on_tag[job] for job in ("test", "lint", "pack")} == {"on_success"}


def test_docs_image_builds_when_the_page_changes_and_deploys_on_tags(sandbox):
    sandbox.branch("change-docs-page")
    assert "docs" not in sandbox.jobs()
    sandbox.commit_file("gateway/docs/ci-probe.html")
    on_branch = sandbox.jobs()
    assert on_branch["docs"] == "on_success" and "deploy-docs" not in on_branch
    assert children(on_branch) == set()
    on_tag = sandbox.jobs(*TAG_PIPELINE)
    assert (on_tag["docs"], on_tag["deploy-docs"]) == ("on_success", "on_success")

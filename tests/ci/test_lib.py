"""ci/lib.sh, the shell helpers of the jobs, run under sh with fake tools on PATH."""
import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

LIB = Path(__file__).resolve().parents[2] / "ci" / "lib.sh"
FAKE_TOOL = """#!/bin/sh
# Records its arguments and standard input, for the test to read.
printf '%s\\n' "$*" >> "$FAKE_LOG/{name}.args"
[ -t 0 ] || cat >> "$FAKE_LOG/{name}.stdin"
"""
SEED_VARIABLES = ("JWT_PRIVATE_KEY", "DOCKER_REGISTRY_USER", "DOCKER_REGISTRY_PASSWORD",
                  "GCP_CREDENTIAL_FILE", "DB_USER", "DB_PASSWORD", "K8S_CLUSTER_NAME",
                  "K8S_CLUSTER_NAEM", "KOPS_STATE_STORE", "KOPS_FEATURE_FLAGS")


@pytest.fixture
def fakes(tmp_path):
    """A bin folder of fake docker/gcloud/kops that log their calls into tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("docker", "gcloud", "kops"):
        tool = bin_dir / name
        tool.write_text(FAKE_TOOL.format(name=name))
        tool.chmod(0o755)
    return tmp_path


def sh(script, fakes, **variables):
    """Run `script` in sh after loading ci/lib.sh, with only the given CI variables."""
    env = {key: value for key, value in os.environ.items()
           if key not in SEED_VARIABLES and not key.startswith(("CI_", "IMAGE_", "GOOGLE_"))}
    env.update(variables, FAKE_LOG=str(fakes),
               PATH=f"{fakes / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run(["sh", "-c", f'. "{LIB}" && {script}'], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=30)


def logged(fakes, name):
    path = fakes / name
    return path.read_text() if path.exists() else ""


def test_image_tag_is_the_git_tag_when_there_is_one(fakes):
    result = sh("ci_image_tag", fakes, CI_COMMIT_TAG="v1.4.0", CI_COMMIT_SHORT_SHA="0a1b2c3d")
    assert result.stdout.strip() == "v1.4.0"


def test_image_tag_is_the_short_sha_without_a_tag(fakes):
    result = sh("ci_image_tag", fakes, CI_COMMIT_SHORT_SHA="0a1b2c3d")
    assert result.stdout.strip() == "0a1b2c3d"


def test_image_tag_replaces_what_docker_refuses(fakes):
    result = sh("ci_image_tag", fakes, CI_COMMIT_TAG="release/1.4+build")
    assert result.stdout.strip() == "release-1.4-build"


def test_image_tag_without_commit_variables_fails(fakes):
    result = sh("ci_image_tag", fakes)
    assert result.returncode != 0
    assert "CI_COMMIT_SHORT_SHA" in result.stderr


def test_image_goes_to_the_docker_registry_user(fakes):
    result = sh("ci_image auth", fakes, DOCKER_REGISTRY_USER="conduit",
                CI_COMMIT_SHORT_SHA="0a1b2c3d", CI_REGISTRY_IMAGE="registry.example/x/y")
    assert result.stdout.strip() == "docker.io/conduit/auth:0a1b2c3d"


def test_image_falls_back_to_the_gitlab_registry(fakes):
    result = sh("ci_image profiles", fakes, CI_COMMIT_TAG="v2",
                CI_REGISTRY_IMAGE="registry.example/team/conduit")
    assert result.stdout.strip() == "registry.example/team/conduit/profiles:v2"


def test_registry_login_decodes_the_base64_password(fakes):
    encoded = base64.b64encode(b"s3cret pass").decode()
    result = sh("ci_registry_login", fakes, DOCKER_REGISTRY_USER="conduit",
                DOCKER_REGISTRY_PASSWORD=encoded)
    assert result.returncode == 0, result.stderr
    assert logged(fakes, "docker.args").split() == [
        "login", "--username", "conduit", "--password-stdin", "docker.io"]
    assert logged(fakes, "docker.stdin") == "s3cret pass"


def test_registry_login_refuses_a_password_that_is_not_base64(fakes):
    result = sh("ci_registry_login", fakes, DOCKER_REGISTRY_USER="conduit",
                DOCKER_REGISTRY_PASSWORD="not base64!")
    assert result.returncode != 0
    assert "DOCKER_REGISTRY_PASSWORD" in result.stderr
    assert logged(fakes, "docker.args") == ""


def test_registry_login_without_a_password_names_the_variable(fakes):
    result = sh("ci_registry_login", fakes, DOCKER_REGISTRY_USER="conduit")
    assert result.returncode != 0
    assert "DOCKER_REGISTRY_PASSWORD is not set" in result.stderr


def test_cluster_name_accepts_the_seed_spelling(fakes):
    result = sh('ci_kops_env && echo "$K8S_CLUSTER_NAME"', fakes,
                K8S_CLUSTER_NAEM="conduit.k8s.local", KOPS_STATE_STORE="gs://state")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "conduit.k8s.local"


def test_cluster_name_prefers_the_correct_spelling(fakes):
    result = sh('ci_kops_env && echo "$K8S_CLUSTER_NAME"', fakes, K8S_CLUSTER_NAME="new.k8s.local",
                K8S_CLUSTER_NAEM="old.k8s.local", KOPS_STATE_STORE="gs://state")
    assert result.stdout.strip() == "new.k8s.local"


def test_kops_env_names_what_is_missing(fakes):
    no_name = sh("ci_kops_env", fakes, KOPS_STATE_STORE="gs://state")
    no_store = sh("ci_kops_env", fakes, K8S_CLUSTER_NAME="c.k8s.local")
    assert no_name.returncode != 0 and "K8S_CLUSTER_NAME" in no_name.stderr
    assert no_store.returncode != 0 and "KOPS_STATE_STORE is not set" in no_store.stderr


def test_kops_feature_flags_reach_the_tools(fakes):
    result = sh('ci_kops_env && sh -c \'echo "$KOPS_FEATURE_FLAGS"\'', fakes,
                K8S_CLUSTER_NAME="c.k8s.local", KOPS_STATE_STORE="gs://state",
                KOPS_FEATURE_FLAGS="AlphaAllowGCE")
    assert result.stdout.strip() == "AlphaAllowGCE"


KEY = {"type": "service_account", "project_id": "conduit"}


@pytest.mark.parametrize("form", ["file", "json", "base64"])
def test_gcp_credentials_accept_a_file_json_or_base64(fakes, form):
    text = json.dumps(KEY)
    if form == "file":
        key_file = fakes / "key.json"
        key_file.write_text(text)
        value = str(key_file)
    else:
        value = text if form == "json" else base64.b64encode(text.encode()).decode()
    result = sh('ci_gcp_credentials && cat "$GOOGLE_APPLICATION_CREDENTIALS"', fakes,
                GCP_CREDENTIAL_FILE=value)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == KEY


KUBECONFIG_TEXT = "apiVersion: v1\nkind: Config\nusers:\n  - name: conduit-deployer\n"


@pytest.mark.parametrize("form", ["file", "base64"])
def test_cluster_login_uses_the_deployer_kubeconfig_not_cloud_admin(fakes, form):
    if form == "file":
        path = fakes / "kubeconfig"
        path.write_text(KUBECONFIG_TEXT)
        value = str(path)
    else:
        value = base64.b64encode(KUBECONFIG_TEXT.encode()).decode()
    result = sh('ci_cluster_login && echo "$IMAGE_REGISTRY" && cat "$KUBECONFIG"', fakes,
                KUBE_DEPLOY_CONFIG=value, DOCKER_REGISTRY_USER="conduit")
    assert result.returncode == 0, result.stderr
    registry, kubeconfig = result.stdout.split("\n", 1)
    assert registry == "docker.io/conduit"
    assert kubeconfig == KUBECONFIG_TEXT
    # No cloud credentials, no kops, no `kops export kubecfg --admin`.
    assert logged(fakes, "kops.args") == "" and logged(fakes, "gcloud.args") == ""


def test_cluster_login_names_a_missing_or_broken_kubeconfig(fakes):
    missing = sh("ci_cluster_login", fakes, DOCKER_REGISTRY_USER="conduit")
    assert missing.returncode != 0 and "KUBE_DEPLOY_CONFIG is not set" in missing.stderr
    broken = sh("ci_cluster_login", fakes, KUBE_DEPLOY_CONFIG="bm90IGEga3ViZWNvbmZpZw==",
                DOCKER_REGISTRY_USER="conduit")
    assert broken.returncode != 0 and "KUBE_DEPLOY_CONFIG" in broken.stderr


FAKE_CURL = """#!/bin/sh
# Writes $FAKE_DOWNLOAD to the -o file, as if it had been downloaded.
while [ $# -gt 0 ]; do
    [ "$1" = -o ] && printf '%s' "$FAKE_DOWNLOAD" > "$2"
    shift
done
"""


def kops_install(fakes, content, expected, with_image_kops=False):
    (fakes / "bin" / "curl").write_text(FAKE_CURL)
    (fakes / "bin" / "curl").chmod(0o755)
    if not with_image_kops:
        (fakes / "bin" / "kops").unlink()
    sha = hashlib.sha256(expected.encode()).hexdigest()
    return sh('ci_install_kops && command -v kops && cat "$(command -v kops)"', fakes,
              KOPS_VERSION="1.31.0", KOPS_SHA256=sha, FAKE_DOWNLOAD=content)


def test_kops_is_installed_only_when_its_sha256_matches(fakes):
    good = kops_install(fakes, "the real kops", "the real kops")
    assert good.returncode == 0, good.stderr
    path, content = good.stdout.split("\n", 1)
    assert content == "the real kops" and not path.startswith(str(fakes / "bin"))


def test_kops_with_another_checksum_is_refused_and_removed(fakes):
    bad = kops_install(fakes, "a tampered kops", "the real kops")
    assert bad.returncode != 0
    assert "does not have the SHA-256 KOPS_SHA256" in bad.stderr
    assert "a tampered kops" not in bad.stdout


def test_a_kops_already_on_path_is_used_only_if_it_is_the_pinned_one(fakes):
    image_kops = (fakes / "bin" / "kops").read_text()
    same = kops_install(fakes, "downloaded", image_kops, with_image_kops=True)
    assert same.returncode == 0 and same.stdout.startswith(str(fakes / "bin" / "kops"))
    other = kops_install(fakes, "downloaded", "downloaded", with_image_kops=True)
    assert other.returncode == 0, other.stderr
    assert other.stdout.split("\n", 1)[1] == "downloaded"


def test_kops_version_and_checksum_are_pinned_together_in_one_place():
    tools = yaml.safe_load((LIB.parent / "deploy-tools.gitlab-ci.yml").read_text())
    variables = tools[".deploy-tools"]["variables"]
    assert variables["KOPS_VERSION"]
    assert len(variables["KOPS_SHA256"]) == 64 and int(variables["KOPS_SHA256"], 16) >= 0
    ci_files = [LIB.parents[1] / ".gitlab-ci.yml", *LIB.parent.glob("*.yml")]
    assert sum("KOPS_SHA256:" in f.read_text() for f in ci_files) == 1

"""The kops spec renders and validates; the cluster scripts do what CI relies on.

kops and a cluster do not exist here: the scripts run against small fake `kops` and
`kubectl` commands that record their calls (the fake kubectl renders with the real one).
"""
import base64
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from conduit_common.keys import KeySet, SigningKey
from conduit_common.testing.keys import SERVICE_KEYS, USER_TOKEN_KEY, deploy_variables

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "cluster"
SCRIPTS = sorted(CLUSTER.glob("*.sh"))
SECRETS = {"DB_USER": "postgres", "DB_PASSWORD": "admin-pw",
           "AUTH_DB_PASSWORD": "auth-pw", "PROFILES_DB_PASSWORD": "profiles-pw",
           "ARTICLES_DB_PASSWORD": "articles-pw", "AUTH_DB_OWNER_PASSWORD": "auth-owner-pw",
           "PROFILES_DB_OWNER_PASSWORD": "profiles-owner-pw",
           "ARTICLES_DB_OWNER_PASSWORD": "articles-owner-pw"}
TOKEN_KEYS = deploy_variables()
CLUSTER_VARS = {"K8S_CLUSTER_NAME": "demo.k8s.local", "KOPS_STATE_STORE": "gs://demo-state/",
                "GCP_PROJECT": "demo-project", "GCP_ZONE": "us-central1-a",
                "ADMIN_CIDR": "198.51.100.0/24"}
# What every real deploy needs besides the secrets: the public host and the ACME account.
TLS_VARS = {"CONDUIT_HOST": "api.conduit.test", "ACME_EMAIL": "ops@conduit.test"}


def run(args, env, **kwargs):
    return subprocess.run([str(a) for a in args], env=env, capture_output=True, text=True,
                          check=False, timeout=120, **kwargs)


# --- kops manifest ------------------------------------------------------------------

def test_kops_manifest_with_example_values_passes_validate_kops(
        clean_env, tmp_path, validate_kops):
    rendered = run([CLUSTER / "render-kops.sh"], clean_env)
    assert rendered.returncode == 0, rendered.stderr
    assert "example value" in rendered.stderr
    manifest = tmp_path / "kops.yaml"
    manifest.write_text(rendered.stdout)
    result = run([sys.executable, validate_kops, manifest], clean_env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kops_manifest_takes_name_state_store_project_and_zone_from_env(clean_env):
    result = run([CLUSTER / "render-kops.sh", "--require"], {**clean_env, **CLUSTER_VARS})
    assert result.returncode == 0, result.stderr
    cluster, *groups = yaml.safe_load_all(result.stdout)
    assert cluster["metadata"]["name"] == "demo.k8s.local"
    assert cluster["spec"]["configBase"] == "gs://demo-state/demo.k8s.local"
    assert cluster["spec"]["project"] == "demo-project"
    assert cluster["spec"]["cloudProvider"] == "gce"
    assert cluster["spec"]["kubernetesVersion"].startswith("1.32.")
    assert [s["region"] for s in cluster["spec"]["subnets"]] == ["us-central1"]
    assert sorted(g["spec"]["role"] for g in groups) == ["ControlPlane", "Node"]
    for group in groups:
        assert group["metadata"]["labels"]["kops.k8s.io/cluster"] == "demo.k8s.local"
        assert group["spec"]["zones"] == ["us-central1-a"]
    (nodes,) = [g for g in groups if g["spec"]["role"] == "Node"]
    assert nodes["spec"]["minSize"] >= 2, "the gce overlay spreads two replicas over nodes"
    assert "${" not in "".join(line.split("#")[0] for line in result.stdout.splitlines())


def test_kops_manifest_names_every_missing_variable_when_required(clean_env):
    result = run([CLUSTER / "render-kops.sh", "--require"],
                 {**clean_env, "GCP_PROJECT": "demo-project"})
    assert result.returncode != 0
    assert "K8S_CLUSTER_NAME KOPS_STATE_STORE GCP_ZONE" in result.stderr


def test_kops_manifest_accepts_the_legacy_cluster_name_variable(clean_env):
    env = {**clean_env, **CLUSTER_VARS, "K8S_CLUSTER_NAEM": "legacy.k8s.local"}
    del env["K8S_CLUSTER_NAME"]
    result = run([CLUSTER / "render-kops.sh", "--require"], env)
    assert result.returncode == 0, result.stderr
    assert next(yaml.safe_load_all(result.stdout))["metadata"]["name"] == "legacy.k8s.local"


def test_make_kops_manifest_prints_the_manifest(clean_env):
    result = run(["make", "--no-print-directory", "-s", "kops-manifest"], clean_env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert [d["kind"] for d in yaml.safe_load_all(result.stdout)] == [
        "Cluster", "InstanceGroup", "InstanceGroup"]


# --- shell hygiene ------------------------------------------------------------------

@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_parses_and_passes_shellcheck(script, tool, clean_env):
    assert os.access(script, os.X_OK), f"{script.name} is not executable"
    assert run(["bash", "-n", script], clean_env).returncode == 0
    result = run([tool("shellcheck"), "--severity=style", script], clean_env)
    assert result.returncode == 0, result.stdout


# --- create-or-update.sh with a fake kops ---------------------------------------------

FAKE_KOPS = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
    "get cluster") [ "${FAKE_EXISTS:-0}" = 1 ] ;;
    "validate cluster") [ "${FAKE_VALID:-1}" = 1 ] ;;
    *) exit 0 ;;
esac
"""


@pytest.fixture
def fake_bin(tmp_path, clean_env, tool):
    """A PATH with fake kops and kubectl in front; returns (env, log file)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kops").write_text(FAKE_KOPS)
    (bin_dir / "kubectl").write_text(FAKE_KUBECTL)
    for fake in bin_dir.iterdir():
        fake.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**clean_env, "PATH": f"{bin_dir}:{clean_env['PATH']}", "FAKE_LOG": str(log),
           "FAKE_APPLIED": str(tmp_path / "applied"), "REAL_KUBECTL": tool("kubectl")}
    return env, log


def calls(log):
    return log.read_text().splitlines() if log.exists() else []


def test_create_or_update_creates_a_missing_cluster_and_waits_for_it(fake_bin):
    env, log = fake_bin
    result = run([CLUSTER / "create-or-update.sh"], {**env, **CLUSTER_VARS})
    assert result.returncode == 0, result.stderr
    verbs = [" ".join(c.split()[:2]) for c in calls(log)]
    assert verbs == ["get cluster", "create --filename", "update cluster",
                     "export kubecfg", "validate cluster"]
    assert "--yes" in calls(log)[2] and "--name demo.k8s.local" in calls(log)[2]


def test_create_or_update_replaces_the_spec_of_an_existing_cluster(fake_bin):
    env, log = fake_bin
    result = run([CLUSTER / "create-or-update.sh"], {**env, **CLUSTER_VARS, "FAKE_EXISTS": "1"})
    assert result.returncode == 0, result.stderr
    assert [c.split()[0] for c in calls(log)][:3] == ["get", "replace", "update"]


def test_create_or_update_gives_up_after_the_timeout_with_a_clear_message(fake_bin):
    env, log = fake_bin
    result = run([CLUSTER / "create-or-update.sh"],
                 {**env, **CLUSTER_VARS, "FAKE_VALID": "0", "VALIDATE_TIMEOUT": "2",
                  "VALIDATE_INTERVAL": "1"})
    assert result.returncode != 0
    assert "did not validate within 2s" in result.stderr
    assert 2 <= sum(c.startswith("validate") for c in calls(log)) <= 4


def test_create_or_update_accepts_the_legacy_variable_and_refuses_missing_ones(fake_bin):
    env, log = fake_bin
    legacy = {**env, **CLUSTER_VARS, "K8S_CLUSTER_NAEM": "old.k8s.local"}
    del legacy["K8S_CLUSTER_NAME"]
    assert run([CLUSTER / "create-or-update.sh"], legacy).returncode == 0
    assert "--name old.k8s.local" in calls(log)[0]
    log.unlink()
    result = run([CLUSTER / "create-or-update.sh"], {**env, "GCP_PROJECT": "p"})
    assert result.returncode != 0 and "K8S_CLUSTER_NAME" in result.stderr
    assert calls(log) == [], "nothing may touch the cloud without the full spec"


# --- deploy.sh with a fake kubectl ----------------------------------------------------

FAKE_KUBECTL = """#!/usr/bin/env bash
case "$1" in
    kustomize) exec "$REAL_KUBECTL" "$@" ;;
esac
echo "$*" >> "$FAKE_LOG"
[ "$1" != --namespace ] || shift 2
case "$1" in
    apply)
        mkdir -p "$FAKE_APPLIED"
        n=$(find "$FAKE_APPLIED" -name '*.yaml' | wc -l)
        cp "$3" "$FAKE_APPLIED/$n.yaml" ;;
    rollout) [ "$2" != status ] || [ "${FAKE_ROLLOUT_FAILS:-}" != "${3#*/}" ] || exit 1 ;;
    get) [ "$2" = pods ] || echo 203.0.113.7 ;;
esac
"""


def selected(selector, labels):
    """Evaluate the label selectors deploy.sh uses (=, in, notin) on labels."""
    if not selector:
        return True
    for part in re.findall(r"[^,(]+(?:\([^)]*\))?", selector):
        if " notin " in part:
            key, values = part.split(" notin ")
            if labels.get(key.strip()) in values.strip("()").split(","):
                return False
        elif " in " in part:
            key, values = part.split(" in ")
            if labels.get(key.strip()) not in values.strip("()").split(","):
                return False
        elif labels.get(part.split("=")[0]) != part.split("=")[1]:
            return False
    return True


def applied_objects(log, applied):
    """(kind, name) of every object each `kubectl apply` call selected."""
    objects = set()
    for index, call in enumerate(c for c in calls(log) if c.startswith("apply")):
        selector = call.split("--selector ", 1)[1] if "--selector" in call else ""
        for doc in yaml.safe_load_all((applied / f"{index}.yaml").read_text()):
            if selected(selector, doc["metadata"].get("labels", {})):
                objects.add((doc["kind"], doc["metadata"]["name"]))
    return objects


def deploy(env, *args, **extra):
    return run([CLUSTER / "deploy.sh", *args],
               {**env, **SECRETS, **TOKEN_KEYS, **TLS_VARS, **extra})


def test_deploy_renders_images_with_the_pipeline_tag_and_the_secret_values(fake_bin):
    env, _ = fake_bin
    result = deploy(env, "-n", IMAGE_TAG="1a2b3c", IMAGE_REGISTRY="registry.example.org/x/")
    assert result.returncode == 0, result.stderr
    docs = list(yaml.safe_load_all(result.stdout))
    images = {c["image"] for d in docs if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    services = ("auth", "profiles", "articles")
    # The projectors run the profiles and articles images: nothing new to push. The
    # docs page has an image of its own, under the same registry and tag.
    # The ingress's error backend is stock nginx, not built here.
    assert images == {f"registry.example.org/x/{s}:1a2b3c"
                      for s in services + ("docs",)} | {"nginx:1.27"}
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"} == {
        *services, "profiles-projector", "articles-projector", "docs", "errors"}
    (secret,) = [d for d in docs if d["kind"] == "Secret"
                 and d["metadata"]["name"].startswith("conduit-secrets-")]
    assert {k: base64.b64decode(v).decode() for k, v in secret["data"].items()} == SECRETS
    assert not (ROOT / "k8s" / "base" / "secrets.env").exists()


def _data(doc) -> dict:
    return {k: base64.b64decode(v).decode() for k, v in doc.get("data", {}).items()} \
        if doc["kind"] == "Secret" else doc["data"]


def _named(docs, prefix):
    (doc,) = [d for d in docs if d["metadata"]["name"].rsplit("-", 1)[0] == prefix
              and d["kind"] in ("Secret", "ConfigMap")]
    return doc


def test_deploy_writes_each_token_key_into_its_own_secret_and_public_sets(fake_bin, tmp_path):
    env, _ = fake_bin
    # One given as text, one as the path of a file (GitLab's file-type variables).
    key_file = tmp_path / "profiles.pem"
    key_file.write_text(SERVICE_KEYS["profiles"].pem())
    result = deploy(env, "-n", PROFILES_SERVICE_KEY=str(key_file))
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert _data(_named(docs, "auth-token-key")) == {
        "jwt-private-key.pem": USER_TOKEN_KEY.pem() + "\n"}
    assert _data(_named(docs, "profiles-service-key"))["service-key.pem"].strip() == \
        SERVICE_KEYS["profiles"].pem().strip()
    assert _data(_named(docs, "articles-service-key"))["service-key.pem"].strip() == \
        SERVICE_KEYS["articles"].pem().strip()
    public = _data(_named(docs, "conduit-token-keys"))
    assert KeySet.from_jwks(public["user-token.jwks.json"]).kids == [USER_TOKEN_KEY.kid]
    assert "PRIVATE" not in public["service-keys.jwks.json"]
    assert not (ROOT / "k8s" / "base" / "keys").exists()


def test_a_new_public_key_set_renames_the_configmap_so_every_service_rolls(fake_bin):
    env, _ = fake_bin
    rotated = KeySet.of(USER_TOKEN_KEY, SigningKey.generate("auth"))
    names = []
    for extra in ({}, {"JWT_PUBLIC_KEYS": json.dumps(rotated.to_jwks())}):
        result = deploy(env, "-n", **extra)
        assert result.returncode == 0, result.stderr
        names.append(_named(list(yaml.safe_load_all(result.stdout)),
                            "conduit-token-keys")["metadata"]["name"])
    assert names[0] != names[1]


@pytest.mark.parametrize("variable, value", [("JWT_PRIVATE_KEY", "not a key"),
                                             ("JWT_PUBLIC_KEYS", "-----BEGIN PRIVATE KEY-----")])
def test_deploy_refuses_key_variables_of_the_wrong_kind(fake_bin, variable, value):
    env, log = fake_bin
    result = deploy(env, "-n", **{variable: value})
    assert result.returncode != 0 and variable in result.stderr


def test_deploy_all_applies_everything_and_prints_the_address(fake_bin, tmp_path):
    env, log = fake_bin
    result = deploy(env, "-o", "dev", "all")
    assert result.returncode == 0, result.stderr
    rendered = deploy(env, "-o", "dev", "-n").stdout
    everything = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(rendered)}
    assert applied_objects(log, tmp_path / "applied") == everything
    waited = [c.split()[-2] for c in calls(log) if "rollout status" in c]
    assert sorted(waited) == ["deployment/articles", "deployment/articles-projector",
                              "deployment/auth", "deployment/docs", "deployment/profiles",
                              "deployment/profiles-projector", "statefulset/postgres"]
    assert "https://api.conduit.test/flask/api" in result.stdout
    assert "203.0.113.7" in result.stdout


def test_deploy_shared_and_one_service_split_the_manifest_cleanly(fake_bin, tmp_path):
    env, log = fake_bin
    assert deploy(env, "shared").returncode == 0
    shared = applied_objects(log, tmp_path / "applied")
    # gce: the data tier is the CloudNativePG Cluster and its Pooler (dev: a StatefulSet).
    assert {("Cluster", "conduit-db"), ("Pooler", "conduit-db-pooler-rw"), ("Ingress", "conduit"),
            ("NetworkPolicy", "default-deny"), ("Namespace", "conduit")} <= shared
    assert "wait cluster/conduit-db --for=condition=Ready" in " ".join(calls(log))
    # The one Deployment there: the Ingresses' error backend (stock nginx, no tag of ours).
    assert {o for o in shared if o[0] in ("Deployment", "HorizontalPodAutoscaler")} == {
        ("Deployment", "errors")}
    assert not {o for o in shared if o[1].endswith("-projector") and o[0] != "NetworkPolicy"}
    assert ("NetworkPolicy", "articles-projector") in shared
    log.unlink()
    for old in (tmp_path / "applied").iterdir():
        old.unlink()
    assert deploy(env, "auth").returncode == 0, "service deploy"
    auth = applied_objects(log, tmp_path / "applied")
    assert {(k, "auth") for k in ("ServiceAccount", "Deployment", "Service",
                                  "HorizontalPodAutoscaler", "PodDisruptionBudget")} <= auth
    assert {k for k, _ in auth - shared} == {"ServiceAccount", "Deployment", "Service",
                                             "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    assert {k for k, _ in auth & shared} == {"Secret", "ConfigMap"}
    # The roles' password Secrets of the Cluster go with the shared objects only.
    assert not {n for k, n in auth if n.startswith("conduit-db-")}
    assert [c.split()[-2] for c in calls(log) if "rollout status" in c] == ["deployment/auth"]


def test_deploying_a_service_deploys_its_projector_too(fake_bin, tmp_path):
    """The projector runs the service's image: a new tag must roll both."""
    env, log = fake_bin
    assert deploy(env, "articles", IMAGE_TAG="1a2b3c").returncode == 0
    articles = applied_objects(log, tmp_path / "applied")
    assert {("Deployment", "articles"), ("Deployment", "articles-projector"),
            ("ServiceAccount", "articles-projector")} <= articles
    assert not {name for kind, name in articles
                if kind == "Deployment" and not name.startswith("articles")}
    waited = [c.split()[-2] for c in calls(log) if "rollout status" in c]
    assert waited == ["deployment/articles", "deployment/articles-projector"]


def test_deploying_docs_rolls_only_the_docs_page(fake_bin, tmp_path):
    """CI's deploy-docs: the docs image at the pipeline's tag, nothing else rolls."""
    env, log = fake_bin
    assert deploy(env, "docs", IMAGE_TAG="1a2b3c").returncode == 0
    applied = applied_objects(log, tmp_path / "applied")
    assert {k for k, n in applied if n == "docs"} == {
        "ServiceAccount", "Deployment", "Service", "PodDisruptionBudget"}
    assert {n for k, n in applied if k == "Deployment"} == {"docs"}
    assert {k for k, n in applied if n != "docs"} == {"Secret", "ConfigMap"}
    waited = [c.split()[-2] for c in calls(log) if "rollout status" in c]
    assert waited == ["deployment/docs"]


def test_deploy_fails_clearly_and_can_roll_back_a_stuck_rollout(fake_bin):
    env, log = fake_bin
    result = deploy(env, "profiles", FAKE_ROLLOUT_FAILS="profiles", AUTO_ROLLBACK="1",
                    ROLLOUT_TIMEOUT="5")
    assert result.returncode != 0
    assert "deployment/profiles did not become ready within 5s" in result.stderr
    assert any(c.startswith("--namespace conduit rollout undo deployment/profiles")
               for c in calls(log))


def test_deploy_refuses_to_run_without_every_secret(fake_bin):
    env, log = fake_bin
    result = run([CLUSTER / "deploy.sh", "all"], {**env, "DB_USER": "x"})
    assert result.returncode != 0 and "DB_PASSWORD" in result.stderr
    assert "JWT_PRIVATE_KEY" in result.stderr and "PROFILES_SERVICE_KEY" in result.stderr
    assert calls(log) == []

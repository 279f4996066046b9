"""The deploy jobs' ServiceAccount (k8s/deploy-access): enough for cluster/deploy.sh, no more."""
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLUSTER_SCOPED = {"Namespace", "ClusterIssuer"}
# apiVersion group -> plural of each kind the overlays render.
PLURALS = {"ConfigMap": "configmaps", "Secret": "secrets", "Service": "services",
           "ServiceAccount": "serviceaccounts", "Deployment": "deployments",
           "StatefulSet": "statefulsets", "HorizontalPodAutoscaler": "horizontalpodautoscalers",
           "PodDisruptionBudget": "poddisruptionbudgets", "Ingress": "ingresses",
           "NetworkPolicy": "networkpolicies", "Gateway": "gateways", "HTTPRoute": "httproutes",
           "Certificate": "certificates", "Cluster": "clusters", "Pooler": "poolers",
           "ScheduledBackup": "scheduledbackups", "ObjectStore": "objectstores",
           "PersistentVolumeClaim": "persistentvolumeclaims",
           "ServiceMonitor": "servicemonitors", "PodMonitor": "podmonitors",
           "PrometheusRule": "prometheusrules"}
APPLY = {"get", "create", "patch"}


@pytest.fixture(scope="module")
def access(tool):
    result = subprocess.run([tool("kubectl"), "kustomize", str(ROOT / "k8s" / "deploy-access")],
                            capture_output=True, text=True, check=True)
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def rules_of(access, kind):
    (role,) = [d for d in access if d["kind"] == kind]
    return role["rules"]


def allowed(rules, group, resource):
    return {v for r in rules if group in r["apiGroups"] and resource in r["resources"]
            for v in r["verbs"]}


def test_manifests_pass_kubernetes_validate(access, tool, tmp_path):
    manifest = tmp_path / "access.yaml"
    manifest.write_text(yaml.safe_dump_all(access))
    result = subprocess.run([tool("kubernetes-validate"), "--strict", "-k", "1.32.0", "--quiet",
                             str(manifest)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_role_covers_every_namespaced_kind_the_deploys_apply(access, docs, target):
    rules = rules_of(access, "Role")
    for doc in docs(target):
        if doc["kind"] in CLUSTER_SCOPED:
            continue
        group = doc["apiVersion"].rpartition("/")[0]
        assert APPLY <= allowed(rules, group, PLURALS[doc["kind"]]), doc["kind"]
    for resource in ("deployments", "statefulsets"):   # rollout status / undo
        assert {"list", "watch", "patch"} <= allowed(rules, "apps", resource)


def test_nothing_is_granted_wholesale_or_destructively(access):
    for kind in ("Role", "ClusterRole"):
        for rule in rules_of(access, kind):
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
            assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(
                rule["verbs"])
            assert not {"pods/exec", "pods/attach", "pods/portforward", "roles", "rolebindings",
                        "clusterroles", "clusterrolebindings"} & set(rule["resources"])


def test_cluster_wide_rights_are_only_the_named_cluster_scoped_objects(access, docs):
    rules = rules_of(access, "ClusterRole")
    for rule in rules:
        if rule["verbs"] != ["create"]:
            assert rule.get("resourceNames"), rule
    names = {n for r in rules for n in r.get("resourceNames", [])}
    for target in ("dev", "gce"):
        for doc in docs(target):
            if doc["kind"] in CLUSTER_SCOPED:
                assert doc["metadata"]["name"] in names
    (binding,) = [d for d in access if d["kind"] == "ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "conduit-deployer"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "conduit-deployer",
                                    "namespace": "conduit"}]


def test_the_token_is_made_by_the_script_not_committed():
    script = (ROOT / "cluster" / "deploy-kubeconfig.sh").read_text()
    assert "type: kubernetes.io/service-account-token" in script
    assert "kubernetes.io/service-account.name: $account" in script
    assert "account=conduit-deployer" in script

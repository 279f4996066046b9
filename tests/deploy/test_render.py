"""Every target renders, passes the Kubernetes 1.32 schemas and lints clean."""
import pathlib
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
# Projector Deployment -> the service whose image it runs.
PROJECTORS = {"profiles-projector": "profiles", "articles-projector": "articles"}
# The API docs page: an image of its own (docker/docs.Dockerfile).
DOCS = "docs"

KUBERNETES_VERSION = "1.32.0"
YAMLLINT_CONFIG = (
    "{extends: default, rules: {document-start: disable, line-length: {max: 100},"
    " truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}}}"
)


def test_target_passes_kubernetes_validate_strict(render, tool, target, tmp_path):
    manifest = tmp_path / f"{target}.yaml"
    manifest.write_text(render(target))
    result = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, "--quiet",
         str(manifest)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout, result.stdout


def test_every_namespaced_object_lives_in_the_conduit_namespace(docs, target):
    for doc in docs(target):
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == "conduit", doc["metadata"]["name"]


def test_yaml_files_are_lint_clean(tool):
    files = sorted(str(p) for p in (ROOT / "k8s").rglob("*.yaml"))
    files += sorted(str(p) for p in (ROOT / "cluster" / "kops").glob("*.yaml.tmpl"))
    files.append(str(ROOT / "gateway" / "routes.yml"))
    result = subprocess.run([tool("yamllint"), "-s", "-d", YAMLLINT_CONFIG, *files],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_no_image_is_latest_or_untagged(docs, target):
    images = [c["image"] for d in docs(target) for c in containers_of(d)]
    assert images
    for image in images:
        name, _, tag = image.rpartition(":")
        assert "@sha256:" in image or (name and "/" not in tag and tag != "latest"), image


def test_base_uses_bare_service_image_names_with_a_fixed_tag():
    for file, service in [(s, s) for s in SERVICES + (DOCS,)] + list(PROJECTORS.items()):
        text = (ROOT / "k8s" / "base" / f"{file}.yaml").read_text()
        images = {line.split("image:")[1].strip() for line in text.splitlines()
                  if "image:" in line}
        assert len(images) == 1, images
        name, tag = images.pop().split(":")
        assert name == service and tag != "latest"


def test_gce_sets_registry_and_tag_through_kustomize_images(docs):
    spec = yaml.safe_load((ROOT / "k8s" / "overlays" / "gce" / "kustomization.yaml").read_text())
    declared = {i["name"]: i for i in spec["images"]}
    assert set(declared) == set(SERVICES) | {DOCS}
    for doc in docs("gce"):
        for container in containers_of(doc):
            # Stock images, as published (the dev database, the error backend's nginx).
            if container["image"].startswith(("postgres:", "nginx:")):
                continue
            name = doc["metadata"]["name"]
            image = declared[PROJECTORS.get(name, name)]
            assert container["image"] == f"{image['newName']}:{image['newTag']}"
            assert "." in image["newName"].split("/")[0], "expected a registry host"


def containers_of(doc):
    if doc["kind"] not in ("Deployment", "StatefulSet"):
        return []
    pod = doc["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


def test_secret_values_stay_out_of_git():
    base = ROOT / "k8s" / "base"
    for written in ("secrets.env", "keys/auth-user-token.pem"):
        ignored = subprocess.run(["git", "check-ignore", "-q", str(base / written)],
                                 cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"k8s/base/{written} must be git-ignored"
    for path in ROOT.joinpath("k8s").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (doc and doc.get("kind") == "Secret"), f"{path} commits a Secret"
    example = dict(line.split("=", 1) for line in (base / "secrets.env.example").read_text()
                   .splitlines() if line and not line.startswith("#"))
    assert {k for k, v in example.items() if v not in ("change-me", "postgres")} == set()


def test_example_secrets_hold_exactly_the_keys_the_manifests_read(docs, overlay):
    """The conduit-secrets keys the manifests read are all in the example (the token
    keys are Secrets of their own, made from files: test_workloads)."""
    lines = (ROOT / "k8s" / "base" / "secrets.env.example").read_text().splitlines()
    example = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    commented = {line[2:].split("=", 1)[0] for line in lines
                 if line.startswith("# ") and "=" in line}
    refs = [e["valueFrom"]["secretKeyRef"] for d in docs(overlay) for c in containers_of(d)
            for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})
            and e["valueFrom"]["secretKeyRef"]["name"].startswith("conduit-secrets")]
    required = {ref["key"] for ref in refs if not ref.get("optional")}
    if any(d["kind"] == "Cluster" for d in docs(overlay)):
        # CloudNativePG keeps its own superuser: DB_USER/DB_PASSWORD serve the
        # StatefulSet of other overlays only.
        assert required <= example and example - required == {"DB_USER", "DB_PASSWORD"}
    else:
        assert required == example
    optional = {ref["key"] for ref in refs if ref.get("optional")}
    assert optional <= commented

"""Fixtures for the deployment checks: the k8s tree rendered offline, the routing table."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

from conduit_common import keys

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"


def shared_tool(name: str) -> pathlib.Path:
    """A checker from ../shared/tools. In a checkout without ../shared beside it the test
    is skipped, with the reason; in CI (CI set), where it is always there, it fails."""
    path = SHARED / "tools" / name
    if not path.exists():
        message = f"{path} is absent (needs ../shared next to the repository)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def validate_crds() -> pathlib.Path:
    return shared_tool("validate-crds")


@pytest.fixture
def validate_kops() -> pathlib.Path:
    return shared_tool("validate-kops")


SERVICES = ("auth", "profiles", "articles")
NAMESPACE = "conduit"

# What `make test-k8s` renders: each overlay alone and with the optional component.
TARGETS = {
    "dev": ("dev", ()),
    "gce": ("gce", ()),
    "dev+gateway-api": ("dev", ("gateway-api",)),
    "gce+gateway-api": ("gce", ("gateway-api",)),
    # The optional OpenTelemetry Collector (k8s/components/tracing).
    "gce+tracing": ("gce", ("tracing",)),
}


def pytest_generate_tests(metafunc):
    """Parametrise `target` over every rendering, `overlay` over the overlays alone."""
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", list(TARGETS))
    if "overlay" in metafunc.fixturenames:
        metafunc.parametrize("overlay", [t for t, (_, c) in TARGETS.items() if not c])
    if "gateway_target" in metafunc.fixturenames:
        metafunc.parametrize("gateway_target",
                             [t for t, (_, c) in TARGETS.items() if "gateway-api" in c])


def find_tool(name):
    """Find a command next to this Python (the venv) first, then on PATH."""
    local = pathlib.Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (make test-k8s installs it)")
    return found


@pytest.fixture(scope="session")
def tool():
    """Return tool(name) -> path of an installed command."""
    return find_tool


@pytest.fixture(scope="session")
def k8s_copy(tmp_path_factory):
    """Copy k8s/ and db/ with the example secrets, as cluster/deploy.sh does."""
    work = tmp_path_factory.mktemp("render")
    shutil.copytree(ROOT / "k8s", work / "k8s")
    shutil.copytree(ROOT / "db", work / "db")
    base = work / "k8s" / "base"
    shutil.copy(base / "secrets.env.example", base / "secrets.env")
    # Throwaway token keys, under the names cluster/deploy.sh writes.
    keys.ensure_dev_keys(base / "keys")
    return work


def kustomize(directory):
    result = subprocess.run(
        [find_tool("kubectl"), "kustomize",
         str(directory)],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def render(k8s_copy):
    """Return render(target) -> the rendered YAML text of a TARGETS entry."""
    cache = {}

    def _render(target):
        if target not in cache:
            overlay, components = TARGETS[target]
            directory = k8s_copy / "targets" / target
            directory.mkdir(parents=True)
            spec = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                    "resources": [f"../../k8s/overlays/{overlay}"],
                    "components": [f"../../k8s/components/{c}" for c in components]}
            (directory / "kustomization.yaml").write_text(yaml.safe_dump(spec))
            cache[target] = kustomize(directory)
        return cache[target]

    return _render


@pytest.fixture(scope="session")
def docs(render):
    """Return docs(target) -> the rendered objects as dicts (a fresh copy each call)."""
    cache = {}

    def _docs(target):
        if target not in cache:
            cache[target] = render(target)
        return [d for d in yaml.load_all(cache[target], Loader=Loader) if d]

    return _docs


@pytest.fixture(scope="session")
def routes():
    """The public routing table (gateway/routes.yml), normalised."""
    table = yaml.safe_load((ROOT / "gateway" / "routes.yml").read_text())
    normalised = []
    for route in table["routes"]:
        if "subpaths" in route:
            subpaths = route["subpaths"]
        else:
            subpaths = not route["exact"]
        normalised.append({"prefix": route["prefix"], "service": route["service"],
                           "subpaths": bool(subpaths)})
    return {"strip_prefix": table["strip_prefix"], "routes": normalised}


@pytest.fixture
def clean_env():
    """The environment without the variables the cluster scripts read."""
    names = ("K8S_CLUSTER_NAME", "K8S_CLUSTER_NAEM", "KOPS_STATE_STORE", "GCP_PROJECT",
             "GCP_ZONE", "GCP_REGION", "IMAGE_TAG", "IMAGE_REGISTRY", "ADMIN_CIDR",
             "CONDUIT_HOST", "ACME_EMAIL", "ACME_SERVER", "TLS_ISSUER")
    return {k: v for k, v in os.environ.items() if k not in names}

"""docker-compose.tracing.yml: layered on docker-compose.yml, it adds the OpenTelemetry
Collector and points every service and projector at it; without it nothing traces."""
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
TRACING = yaml.safe_load((ROOT / "docker-compose.tracing.yml").read_text())["services"]
TRACED = ("auth", "profiles", "articles", "profiles-projector", "articles-projector")
ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
CONFIG = ROOT / "k8s" / "components" / "tracing" / "otel-collector.yaml"


def environment(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def test_the_default_stack_does_not_trace():
    assert "otel-collector" not in BASE
    for name, service in BASE.items():
        assert ENDPOINT not in environment(service), name


def test_the_overlay_adds_only_the_collector_and_the_endpoint():
    assert set(TRACING) == {"otel-collector", *TRACED}
    for name in TRACED:
        assert environment(TRACING[name]) == {ENDPOINT: "http://otel-collector:4318"}
        assert set(TRACING[name]) == {"environment", "depends_on"}, name


def test_the_collector_mounts_the_config_the_cluster_uses():
    collector = TRACING["otel-collector"]
    (flag,) = [a for a in collector["command"] if a.startswith("--config=")]
    (volume,) = collector["volumes"]
    source, target, mode = volume.split(":")
    assert (ROOT / source).resolve() == CONFIG and target == flag.split("=", 1)[1]
    assert mode == "ro"
    assert "ports" not in collector, "only the services send to it"
    receiver = yaml.safe_load(CONFIG.read_text())["receivers"]["otlp"]["protocols"]["http"]
    assert receiver["endpoint"].endswith(":4318")


def test_merged_with_the_stack_the_services_keep_their_settings():
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.skip("docker-compose is not installed (make test-compose-config installs it)")
    result = subprocess.run(
        [compose, "--env-file", str(ROOT / ".env.example"), "-f", str(ROOT / "docker-compose.yml"),
         "-f", str(ROOT / "docker-compose.tracing.yml"), "config"],
        capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)["services"]
    for name in TRACED:
        env = environment(merged[name])
        assert env[ENDPOINT] == "http://otel-collector:4318", name
        # The overlay adds to the base's environment and dependencies, never replaces.
        assert set(environment(BASE[name])) | {ENDPOINT} == set(env), name
        assert set(BASE[name]["depends_on"]) | {"otel-collector"} == set(
            merged[name]["depends_on"]), name
    for name in set(merged) - set(TRACED):
        assert ENDPOINT not in environment(merged[name]), name

"""docker-compose.yml means what docs/architecture.md says (the schema checks only shape)."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
# Each consuming service's projector and the owners whose feeds it follows.
PROJECTORS = {"profiles": ("auth",), "articles": ("auth", "profiles")}
DOCUMENT = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
COMPOSE = DOCUMENT["services"]


def env_example() -> dict:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def parse_seconds(duration: str) -> float:
    """A compose duration such as '240s', '2m' or '1m30s', in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and any(parts.groups()), f"not a duration: {duration!r}"
    minutes, seconds = (int(part or 0) for part in parts.groups())
    return minutes * 60 + seconds


@pytest.mark.parametrize("service", SERVICES)
def test_service_waits_for_its_migration_and_a_healthy_postgres(service):
    depends = COMPOSE[service]["depends_on"]
    assert depends[f"{service}-migrate"] == {"condition": "service_completed_successfully"}
    assert depends["postgres"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("service", SERVICES)
def test_migration_runs_the_same_image_with_the_migrate_command(service):
    migrate, app = COMPOSE[f"{service}-migrate"], COMPOSE[service]
    assert migrate["image"] == app["image"]
    assert migrate["build"] == app["build"] == {
        "context": ".", "dockerfile": f"services/{service}/Dockerfile"}
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_connects_as_its_runtime_role_and_migrates_as_the_owner(service):
    url = COMPOSE[service]["environment"]["DATABASE_URL"]
    password = f"${{{service.upper()}_DB_PASSWORD:?"
    assert url.startswith(f"postgresql+psycopg://conduit_{service}:{password}")
    assert url.endswith("@postgres:5432/conduit")
    migrate = COMPOSE[f"{service}-migrate"]["environment"]
    assert set(migrate) == {"MIGRATE_DATABASE_URL"}
    password = f"${{{service.upper()}_DB_OWNER_PASSWORD:?"
    assert migrate["MIGRATE_DATABASE_URL"].startswith(
        f"postgresql+psycopg://conduit_{service}_owner:{password}")
    assert migrate["MIGRATE_DATABASE_URL"].endswith("@postgres:5432/conduit")


def test_owner_passwords_reach_only_postgres_and_the_migrations():
    for name, service in COMPOSE.items():
        environment = yaml.safe_dump(service.get("environment", {}))
        if "OWNER_PASSWORD" in environment or "_owner:" in environment:
            assert name == "postgres" or name.endswith("-migrate"), name
    postgres = COMPOSE["postgres"]["environment"]
    assert {f"{s.upper()}_DB_OWNER_PASSWORD" for s in SERVICES} <= set(postgres)


def test_the_apis_call_no_peer():
    for service in SERVICES:
        environment = COMPOSE[service]["environment"]
        assert not [key for key in environment if key.endswith("_SERVICE_URL")], service


def test_exactly_the_consuming_services_have_a_projector():
    projectors = {name for name in COMPOSE if name.endswith("-projector")}
    assert projectors == {f"{service}-projector" for service in PROJECTORS}


@pytest.mark.parametrize("service", PROJECTORS)
def test_projector_runs_its_service_image_with_the_project_command(service):
    projector, app = COMPOSE[f"{service}-projector"], COMPOSE[service]
    assert projector["image"] == app["image"]
    assert projector["build"] == app["build"]
    assert projector["command"] == ["project"]
    assert projector["restart"] == "unless-stopped"
    # conduit-healthcheck probes $PORT (8000): the projector must serve health there.
    # Healthy = ready (caught up), so that compose-wait.sh returns only once reads see
    # the owners' data; a slow first catch-up must not count as a failure.
    assert projector["healthcheck"]["test"] == ["CMD", "conduit-healthcheck", "/readyz"]
    assert parse_seconds(projector["healthcheck"]["start_period"]) >= 120
    assert projector["environment"].get("PROJECTOR_PORT", "8000") == "8000"


@pytest.mark.parametrize("service", PROJECTORS)
def test_projector_connects_as_its_service_and_reaches_exactly_its_owners(service):
    environment = COMPOSE[f"{service}-projector"]["environment"]
    assert environment["DATABASE_URL"] == COMPOSE[service]["environment"]["DATABASE_URL"]
    urls = {key: value for key, value in environment.items() if key.endswith("_SERVICE_URL")}
    # The owners' internal port (the image's INTERNAL_PORT): feeds answer only there.
    assert urls == {f"{owner.upper()}_SERVICE_URL": f"http://{owner}:9000"
                    for owner in PROJECTORS[service]}
    assert "LOG_LEVEL" in environment


@pytest.mark.parametrize("service", PROJECTORS)
def test_projector_starts_after_its_migration_and_its_healthy_owners(service):
    depends = COMPOSE[f"{service}-projector"]["depends_on"]
    assert depends == {
        "postgres": {"condition": "service_healthy"},
        f"{service}-migrate": {"condition": "service_completed_successfully"},
        **{owner: {"condition": "service_healthy"} for owner in PROJECTORS[service]},
    }


def test_compose_wait_waits_for_the_gateway_and_every_projector():
    text = (ROOT / "docker" / "compose-wait.sh").read_text()
    (default,) = re.findall(r"\$\{COMPOSE_WAIT_FOR:-([^}]*)\}", text)
    assert set(default.split()) == {"gateway"} | {n for n in COMPOSE if n.endswith("-projector")}


def test_gateway_is_published_on_8080_and_waits_for_healthy_services():
    gateway = COMPOSE["gateway"]
    assert gateway["image"] == "nginx:1.27"
    assert [p.rsplit(":", 1)[1] for p in gateway["ports"]] == ["8080"]
    assert "8080}" in gateway["ports"][0]
    assert {name: dep["condition"] for name, dep in gateway["depends_on"].items()} == {
        service: "service_healthy" for service in SERVICES}


def test_postgres_runs_the_shared_bootstrap_once_with_its_variables():
    postgres = COMPOSE["postgres"]
    assert postgres["image"] == "postgres:15-bookworm"
    assert "./db/bootstrap.sh:/docker-entrypoint-initdb.d/10-conduit.sh:ro" in postgres["volumes"]
    assert "./db/bootstrap.sql:/conduit/bootstrap.sql:ro" in postgres["volumes"]
    assert postgres["environment"]["CONDUIT_BOOTSTRAP_SQL"] == "/conduit/bootstrap.sql"
    assert any(v.startswith("pgdata:") for v in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_no_secret_is_written_in_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for key, value in env_example().items():
        if "PASSWORD" in key or "SECRET" in key:
            assert value not in text, f"{key}'s example value is in docker-compose.yml"
    values = re.findall(r"^\s+\w*(?:PASSWORD|SECRET): *(\S.*)$", text, re.MULTILINE)
    assert values and all(value.startswith("${") for value in values)


def test_every_required_variable_has_an_example():
    text = (ROOT / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert required and required <= env_example().keys()


# The key material each container gets (docs/security.md, "Token keys"): its role's.
KEYS_BY_CONTAINER = {
    "auth": {"jwt_public_keys", "service_public_keys", "jwt_private_key"},
    "profiles": {"jwt_public_keys", "service_public_keys"},
    "articles": {"jwt_public_keys", "service_public_keys"},
    "profiles-projector": {"profiles_service_key"},
    "articles-projector": {"articles_service_key"},
}


def test_each_container_gets_exactly_the_keys_of_its_role():
    for name, container in COMPOSE.items():
        assert set(container.get("secrets", ())) == KEYS_BY_CONTAINER.get(name, set()), name
    signing = {name for name, keys in KEYS_BY_CONTAINER.items()
               if keys & {"jwt_private_key", "profiles_service_key", "articles_service_key"}}
    assert signing == {"auth", "profiles-projector", "articles-projector"}


def test_the_key_variables_name_the_mounted_secrets():
    for name, keys in KEYS_BY_CONTAINER.items():
        environment = COMPOSE[name]["environment"]
        files = {key: value for key, value in environment.items() if key.endswith("_FILE")}
        assert {value.removeprefix("/run/secrets/") for value in files.values()} == keys, name
    assert COMPOSE["auth"]["environment"]["JWT_PRIVATE_KEY_FILE"] == \
        "/run/secrets/jwt_private_key"
    for name in ("profiles", "articles", "profiles-projector", "articles-projector"):
        assert "JWT_PRIVATE_KEY_FILE" not in COMPOSE[name]["environment"]


def test_the_key_files_are_made_by_make_compose_keys_never_committed():
    files = {name: spec["file"] for name, spec in DOCUMENT["secrets"].items()}
    assert set(files) == set().union(*KEYS_BY_CONTAINER.values())
    assert all(path.startswith("${CONDUIT_KEYS_DIR:-./.run/compose-keys}/")
               for path in files.values())
    compose_mk = (ROOT / "mk" / "compose.mk").read_text()
    assert re.search(r"^compose-up: .*compose-keys", compose_mk, re.MULTILINE)
    assert re.search(r"^compose-test: .*compose-keys", compose_mk, re.MULTILINE)
    example = (ROOT / ".env.example").read_text()
    assert "PRIVATE KEY" not in example and "CONDUIT_SECRET" not in example


def test_the_gateway_reaches_the_public_port_and_nothing_publishes_the_internal_one():
    """The image's `serve` listens on 8000 (public) and 9000 (INTERNAL_PORT: /internal/...,
    /metrics); nginx proxies to 8000 only, and only the gateway is published."""
    environment = COMPOSE["gateway"]["environment"]
    upstreams = {k: v for k, v in environment.items() if k.endswith("_UPSTREAM")}
    assert upstreams == {f"{s.upper()}_UPSTREAM": f"{s}:8000" for s in SERVICES}
    for service in SERVICES:
        # Unset: the entrypoint's default 9000 (an empty value would merge the ports).
        assert "INTERNAL_PORT" not in COMPOSE[service]["environment"], service
    assert [name for name, spec in COMPOSE.items() if spec.get("ports")] == ["gateway"]

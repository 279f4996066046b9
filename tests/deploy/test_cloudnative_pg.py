"""The gce data tier on CloudNativePG: CRD structure, HA, backups, pooler, roles, wiring."""
import base64
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "k8s" / "components" / "cloudnative-pg"
CNPG_TARGETS = ("gce", "gce+gateway-api")
PLUGIN = "barman-cloud.cloudnative-pg.io"
SERVICES = ("auth", "profiles", "articles")


def one(rendered, kind):
    (found,) = [d for d in rendered if d["kind"] == kind]
    return found


@pytest.fixture(params=CNPG_TARGETS)
def gce(request, docs):
    return docs(request.param)


@pytest.mark.parametrize("name", CNPG_TARGETS)
def test_custom_resources_pass_the_operator_schemas(render, name, tmp_path, validate_crds):
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(render(name))
    result = subprocess.run([sys.executable, str(validate_crds), str(manifest)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Cluster, Pooler and ScheduledBackup are checked (ObjectStore: see below).
    assert " 0 problems" in result.stdout + result.stderr


def test_dev_keeps_the_single_statefulset(docs):
    rendered = docs("dev")
    assert not [d for d in rendered if d["kind"] in ("Cluster", "Pooler", "ObjectStore")]
    assert [d["metadata"]["name"] for d in rendered if d["kind"] == "StatefulSet"] == ["postgres"]


def test_gce_replaces_the_statefulset_with_a_cluster(gce):
    assert not [d for d in gce if d["kind"] == "StatefulSet"]
    assert not [d for d in gce if d["kind"] in ("Service", "ServiceAccount", "NetworkPolicy")
                and d["metadata"]["name"] == "postgres"]


def test_three_instances_one_per_node_with_a_synchronous_standby(gce):
    spec = one(gce, "Cluster")["spec"]
    assert spec["instances"] == 3
    affinity = spec["affinity"]
    assert affinity["enablePodAntiAffinity"] is True
    assert affinity["podAntiAffinityType"] == "required"
    assert affinity["topologyKey"] == "kubernetes.io/hostname"
    sync = spec["postgresql"]["synchronous"]
    # One of the two standbys confirms every commit: a lost node loses nothing.
    assert (sync["method"], sync["number"], sync["dataDurability"]) == ("any", 1, "required")
    assert sync["number"] < spec["instances"] - 1 or sync["dataDurability"] == "preferred"
    assert spec["storage"]["size"] == "20Gi" and spec["storage"]["storageClass"]
    assert spec["imageName"].split(":")[1].startswith("15."), "same major as make run"


def test_backups_go_to_a_gs_bucket_through_the_barman_cloud_plugin(gce):
    spec = one(gce, "Cluster")["spec"]
    assert "backup" not in spec, "the in-tree barmanObjectStore is deprecated"
    (plugin,) = spec["plugins"]
    assert plugin["name"] == PLUGIN and plugin["isWALArchiver"] is True
    store = one(gce, "ObjectStore")
    assert store["apiVersion"] == "barmancloud.cnpg.io/v1"
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    # validate-crds has no schema for ObjectStore: its essentials are checked here.
    config = store["spec"]["configuration"]
    assert config["destinationPath"].startswith("gs://")
    credentials = config["googleCredentials"]["applicationCredentials"]
    assert set(credentials) == {"name", "key"}
    assert store["spec"]["retentionPolicy"][:-1].isdigit()
    assert store["spec"]["retentionPolicy"][-1] in "dwm"
    backup = one(gce, "ScheduledBackup")["spec"]
    assert backup["cluster"]["name"] == one(gce, "Cluster")["metadata"]["name"]
    assert backup["method"] == "plugin" and backup["pluginConfiguration"]["name"] == PLUGIN
    seconds, minutes, hours, day, month, weekday = backup["schedule"].split()
    assert (day, month, weekday) == ("*", "*", "*"), "daily"


def test_pooler_pools_transactions_in_front_of_the_primary(gce):
    pooler = one(gce, "Pooler")["spec"]
    assert pooler["cluster"]["name"] == one(gce, "Cluster")["metadata"]["name"]
    assert pooler["type"] == "rw" and pooler["pgbouncer"]["poolMode"] == "transaction"
    assert pooler["instances"] >= 2


def test_the_pooler_tracks_the_statements_psycopg_prepares(gce):
    """psycopg prepares a statement after a connection's fifth run of it (protocol
    level); in transaction mode PgBouncer must carry those prepared statements over to
    whichever server connection runs the client's next transaction."""
    parameters = one(gce, "Pooler")["spec"]["pgbouncer"]["parameters"]
    assert int(parameters["max_prepared_statements"]) >= 100   # psycopg's prepared_max


def test_roles_get_the_service_passwords_and_the_bootstrap_sql(gce):
    cluster = one(gce, "Cluster")["spec"]
    secrets = {d["metadata"]["name"]: d for d in gce if d["kind"] == "Secret"}
    (conduit,) = [s for n, s in secrets.items() if n.startswith("conduit-secrets-")]
    roles = {r["name"]: r for r in cluster["managed"]["roles"]}
    # Per service the runtime role and the schema owner (db/bootstrap.sql).
    wanted = {f"conduit_{s}": f"{s.upper()}_DB_PASSWORD" for s in SERVICES}
    wanted.update({f"conduit_{s}_owner": f"{s.upper()}_DB_OWNER_PASSWORD" for s in SERVICES})
    assert set(roles) == set(wanted)
    for name, key in wanted.items():
        role = roles[name]
        assert role["login"] is True and role["ensure"] == "present"
        # No memberships: the runtime role can never SET ROLE to its owner.
        assert not role.get("inRoles") and not role.get("superuser")
        secret = secrets[role["passwordSecret"]["name"]]
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert base64.b64decode(secret["data"]["username"]).decode() == name
        assert secret["data"]["password"] == conduit["data"][key]
    assert len({r["passwordSecret"]["name"] for r in roles.values()}) == len(roles)
    initdb = cluster["bootstrap"]["initdb"]
    assert initdb["database"] == "conduit"
    (ref,) = initdb["postInitApplicationSQLRefs"]["configMapRefs"]
    configmaps = {d["metadata"]["name"]: d for d in gce if d["kind"] == "ConfigMap"}
    assert configmaps[ref["name"]]["data"][ref["key"]] == (COMPONENT / "bootstrap.sql").read_text()


def test_session_state_bypasses_the_pooler(gce):
    """Requests go through PgBouncer; migrations, projectors and the feeds' LISTEN
    (owners auth and profiles) connect to the primary's -rw Service."""
    deployments = {d["metadata"]["name"]: d for d in gce if d["kind"] == "Deployment"
                   # the docs page and the error backend: no database
                   and d["metadata"]["name"] not in ("docs", "errors")}
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        for container in spec["initContainers"] + spec["containers"]:
            env = [e["name"] for e in container["env"]]
            values = {e["name"]: e.get("value", "") for e in container["env"]}
            pooled = container["name"] == name and not name.endswith("-projector")
            host = "@conduit-db-pooler-rw:5432/" if pooled else "@conduit-db-rw:5432/"
            migrate = container in spec["initContainers"]
            url = "MIGRATE_DATABASE_URL" if migrate else "DATABASE_URL"
            assert host in values[url], (name, container["name"])
            if pooled and name in ("auth", "profiles"):
                assert "@conduit-db-rw:5432/" in values["DIRECT_DATABASE_URL"]
                assert env.index("DB_PASSWORD") < env.index("DIRECT_DATABASE_URL")
            else:
                assert "DIRECT_DATABASE_URL" not in values, (name, container["name"])

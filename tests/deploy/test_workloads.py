"""Workloads: names, migrations, probes, limits, security, selectors, ports, env, Postgres."""
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = ("auth", "profiles", "articles")
WORKLOADS = ("Deployment", "StatefulSet")
# The projectors: Deployment name -> the service whose image and database role it
# uses. Only they call other services (their owners' event feeds); the APIs call none.
PROJECTORS = {"profiles-projector": "profiles", "articles-projector": "articles"}
CALLS = {"profiles-projector": ("auth",), "articles-projector": ("auth", "profiles")}
# The API docs page: static files in an image of its own (docker/docs.Dockerfile), no
# database, no secrets, no migration; checked by the docs tests at the end.
DOCS = "docs"
DOCS_PORT = 8080
# ingress-nginx's JSON error backend: stock nginx (its config from a ConfigMap), no
# database, no secrets, no migration; checked by the errors tests at the end.
ERRORS = "errors"
# The two static nginx workloads: neither migrates, serves the API or reads config.
STATIC = (DOCS, ERRORS)
# The optional OpenTelemetry Collector (k8s/components/tracing): the stock image with
# its config from a ConfigMap; no database; checked by tests/deploy/test_tracing.py.
COLLECTOR = "otel-collector"
# Workloads that are not one of ours: no migration, no database, no API ports.
AUXILIARY = STATIC + (COLLECTOR,)
# A first backfill may take minutes: the startup probe must leave at least this long.
STARTUP_SECONDS = 300


def service_of(deployment_name):
    """The service whose image, schema and secrets a Deployment uses."""
    return PROJECTORS.get(deployment_name, deployment_name)


def by_kind(rendered, kind):
    return {d["metadata"]["name"]: d for d in rendered if d["kind"] == kind}


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def selects(selector, labels):
    """Evaluate a LabelSelector (matchLabels + matchExpressions) on labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if not {"In": key in labels and labels[key] in values,
                "NotIn": labels.get(key) not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels}[op]:
            return False
    return True


def quantity(value):
    """A CPU or memory quantity as a number (cores or bytes)."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * units.get(unit, 1)


def env_map(container):
    return {e["name"]: e for e in container.get("env", [])}


def without_host(url):
    return re.sub(r"@[^/]+/", "@HOST/", url)


def uses_cloudnative_pg(rendered):
    return any(d["kind"] == "Cluster" for d in rendered)


def database_host(rendered, deployment_name, container, spec):
    """Where a container's DATABASE_URL points: the StatefulSet's `postgres`, or with
    CloudNativePG the pooler for the APIs' requests and the primary's -rw Service
    for migrations and projectors (session-level advisory locks)."""
    if not uses_cloudnative_pg(rendered):
        return "postgres:5432"
    if container in spec["containers"] and deployment_name not in PROJECTORS:
        return "conduit-db-pooler-rw:5432"
    return "conduit-db-rw:5432"


# --- one file, one name per service ------------------------------------------------

def test_each_service_file_holds_its_serviceaccount_deployment_and_service():
    for service in SERVICES:
        docs = list(yaml.safe_load_all((ROOT / "k8s" / "base" / f"{service}.yaml").read_text()))
        assert sorted(d["kind"] for d in docs) == ["Deployment", "Service", "ServiceAccount"]
        for doc in docs:
            assert doc["metadata"]["name"] == service
            assert doc["metadata"]["labels"]["app"] == service


def test_each_projector_file_holds_its_serviceaccount_and_deployment_only():
    for projector in PROJECTORS:
        path = ROOT / "k8s" / "base" / f"{projector}.yaml"
        docs = list(yaml.safe_load_all(path.read_text()))
        # Nothing calls a projector: no Service.
        assert sorted(d["kind"] for d in docs) == ["Deployment", "ServiceAccount"]
        for doc in docs:
            assert doc["metadata"]["name"] == projector
            assert doc["metadata"]["labels"]["app"] == projector
    listed = yaml.safe_load((ROOT / "k8s" / "base" / "kustomization.yaml").read_text())
    assert {f"{p}.yaml" for p in PROJECTORS} <= set(listed["resources"])


def test_deployment_uses_its_own_name_for_label_account_and_container(docs, target):
    deployments = by_kind(docs(target), "Deployment")
    wanted = set(SERVICES) | set(PROJECTORS) | set(STATIC)
    assert set(deployments) == (wanted | {COLLECTOR} if "tracing" in target else wanted)
    accounts = by_kind(docs(target), "ServiceAccount")
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        assert deployment["spec"]["template"]["metadata"]["labels"]["app"] == name
        assert spec["serviceAccountName"] == name and name in accounts
        assert accounts[name]["automountServiceAccountToken"] is False
        assert spec["containers"][0]["name"] == name
        image = spec["containers"][0]["image"].rsplit(":", 1)[0]
        service = {ERRORS: "nginx", COLLECTOR: "otel/opentelemetry-collector"}.get(
            name, service_of(name))
        assert image == service or image.endswith("/" + service)


def test_services_serve_and_projectors_project_from_the_same_image(docs, target):
    deployments = by_kind(docs(target), "Deployment")
    for name, deployment in deployments.items():
        (app,) = pod_spec(deployment)["containers"]
        if name in (ERRORS, COLLECTOR):
            continue  # stock images with our config: test_error_backend, test_tracing
        assert "command" not in app, "the image's entrypoint picks the process"
        if name in PROJECTORS:
            (service_app,) = pod_spec(deployments[PROJECTORS[name]])["containers"]
            assert app["image"] == service_app["image"], name
            assert app["args"] == ["project"], name
        elif name == DOCS:
            assert "args" not in app, name
        else:
            assert app.get("args", ["serve"]) == ["serve"], name


def test_each_deployment_migrates_first_with_its_own_image(docs, target):
    for name, deployment in by_kind(docs(target), "Deployment").items():
        spec = pod_spec(deployment)
        if name in AUXILIARY:
            assert "initContainers" not in spec, "nothing to migrate"
            continue
        (migrate,) = spec["initContainers"]
        (app,) = spec["containers"]
        assert migrate["image"] == app["image"], name
        assert migrate.get("args") == ["migrate"] and "command" not in migrate, name
        # Same database, the service's owner role instead of its runtime role; the host
        # may differ (gce: requests through the pooler, migrations straight to the
        # primary, see database_host below).
        service = service_of(name)
        assert (without_host(env_map(migrate)["MIGRATE_DATABASE_URL"]["value"])
                == without_host(env_map(app)["DATABASE_URL"]["value"]).replace(
                    f"conduit_{service}:$(DB_PASSWORD)",
                    f"conduit_{service}_owner:$(DB_OWNER_PASSWORD)")), name


# --- probes, resources, security --------------------------------------------------

def test_every_container_has_requests_and_limits(docs, target):
    for workload in (d for d in docs(target) if d["kind"] in WORKLOADS):
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            resources = container["resources"]
            for key in ("cpu", "memory"):
                request = quantity(resources["requests"][key])
                assert 0 < request <= quantity(resources["limits"][key]), container["name"]


def test_every_container_is_locked_down(docs, target):
    for workload in (d for d in docs(target) if d["kind"] in WORKLOADS):
        spec = pod_spec(workload)
        pod_context = spec["securityContext"]
        assert pod_context["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod_context["runAsUser"] != 0
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["capabilities"]["drop"] == ["ALL"], container["name"]
            assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True


def test_writable_tmp_is_an_emptydir(docs, target):
    for workload in (d for d in docs(target) if d["kind"] in WORKLOADS):
        spec = pod_spec(workload)
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        for container in spec.get("initContainers", []) + spec["containers"]:
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts.get("/tmp") in empty_dirs, container["name"]


def test_services_probe_readyz_and_healthz_on_a_named_port(docs, target):
    for name, deployment in by_kind(docs(target), "Deployment").items():
        if name in AUXILIARY:
            continue  # their own tests: docs below, test_error_backend, test_tracing
        (app,) = pod_spec(deployment)["containers"]
        ports = {p["name"]: p["containerPort"] for p in app["ports"]}
        # A service's second port: the internal API and /metrics (conduit_common/ports.py).
        assert ports == ({"http": 8000} if name in PROJECTORS else {"http": 8000, "internal": 9000})
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            check = app[probe]["httpGet"]
            assert (check["path"], check["port"]) == (path, "http"), app["name"]


def test_projectors_serve_health_on_the_probed_port(docs, target):
    for name, deployment in by_kind(docs(target), "Deployment").items():
        if name in PROJECTORS:
            (app,) = pod_spec(deployment)["containers"]
            port = env_map(app).get("PROJECTOR_PORT", {"value": "8000"})["value"]
            assert int(port) == app["ports"][0]["containerPort"], name


def test_projectors_get_a_startup_window_for_a_first_backfill(docs, target):
    """Liveness (/healthz) only starts once the worker answers; readiness (/readyz,
    caught up) has no deadline, so a long backfill holds a rollout but never
    restarts the pod."""
    for name, deployment in by_kind(docs(target), "Deployment").items():
        if name not in PROJECTORS:
            continue
        (app,) = pod_spec(deployment)["containers"]
        startup = app["startupProbe"]
        assert (startup["httpGet"]["path"], startup["httpGet"]["port"]) == ("/healthz", "http")
        window = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        assert window >= STARTUP_SECONDS, name
        liveness = app["livenessProbe"]
        # The worker calls itself stuck after 60 s without progress; give it that long.
        assert liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3) >= 60


def test_postgres_is_probed_with_pg_isready(docs, target):
    if uses_cloudnative_pg(docs(target)):
        return  # no StatefulSet: tests/deploy/test_cloudnative_pg.py
    postgres = by_kind(docs(target), "StatefulSet")["postgres"]
    (container,) = pod_spec(postgres)["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"][0] == "pg_isready"


# --- selectors and ports ------------------------------------------------------------

def workload_pods(rendered):
    return {w["metadata"]["name"]: w for w in rendered if w["kind"] in WORKLOADS}


def test_workload_selectors_match_their_pod_labels(docs, target):
    for workload in workload_pods(docs(target)).values():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert selects(workload["spec"]["selector"], labels), workload["metadata"]["name"]


def test_each_service_selects_one_workload_and_targets_a_named_port(docs, target):
    rendered = docs(target)
    pods = workload_pods(rendered)
    for name, service in by_kind(rendered, "Service").items():
        chosen = [w for w in pods.values()
                  if selects({"matchLabels": service["spec"]["selector"]},
                             w["spec"]["template"]["metadata"]["labels"])]
        assert [w["metadata"]["name"] for w in chosen] == [name]
        ports = {p["name"]: p for c in pod_spec(chosen[0])["containers"] for p in c["ports"]}
        for port in service["spec"]["ports"]:
            assert isinstance(port["targetPort"], str), f"{name}: name the target port"
            assert port["targetPort"] in ports and port["name"] == port["targetPort"]
            assert ports[port["targetPort"]]["containerPort"] == port["port"]


def test_budgets_and_autoscalers_point_at_existing_deployments(docs, overlay):
    rendered = docs(overlay)
    deployments = by_kind(rendered, "Deployment")
    for budget in by_kind(rendered, "PodDisruptionBudget").values():
        chosen = [n for n, d in deployments.items() if selects(
            budget["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        assert chosen == [budget["metadata"]["name"]]
    for scaler in by_kind(rendered, "HorizontalPodAutoscaler").values():
        target = scaler["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments


# --- environment ----------------------------------------------------------------

def test_database_url_is_built_from_the_service_own_password(docs, target):
    """Servers and projectors connect as the DML-only runtime role (DATABASE_URL); only
    the migrate init containers get the schema owner (MIGRATE_DATABASE_URL) and its
    password, and nothing else."""
    rendered = docs(target)
    for name, deployment in by_kind(rendered, "Deployment").items():
        if name in AUXILIARY:
            continue  # no database
        spec = pod_spec(deployment)
        service = service_of(name)
        for container in spec["initContainers"] + spec["containers"]:
            env = env_map(container)
            names = [e["name"] for e in container["env"]]
            host = database_host(rendered, name, container, spec)
            migrate = container in spec["initContainers"]
            password, url, role, key = (
                ("DB_OWNER_PASSWORD", "MIGRATE_DATABASE_URL", f"conduit_{service}_owner",
                 f"{service.upper()}_DB_OWNER_PASSWORD") if migrate else
                ("DB_PASSWORD", "DATABASE_URL", f"conduit_{service}",
                 f"{service.upper()}_DB_PASSWORD"))
            assert env[password]["valueFrom"]["secretKeyRef"]["key"] == key
            assert env[url]["value"] == (f"postgresql+psycopg://{role}:$({password})"
                                         f"@{host}/conduit"), (name, container["name"])
            # $(VAR) only expands variables defined earlier in the list.
            assert names.index(password) < names.index(url)
            keys = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"]
                    if "secretKeyRef" in e.get("valueFrom", {})}
            owner_keys = {k for k in keys if "_DB_OWNER_PASSWORD" in k}
            assert owner_keys == ({key} if migrate else set()), (name, container["name"])
            if migrate:
                assert "DATABASE_URL" not in env and "DB_PASSWORD" not in env, name


def test_services_get_the_urls_of_exactly_the_peers_they_call(docs, target):
    rendered = docs(target)
    services = by_kind(rendered, "Service")
    for name, deployment in by_kind(rendered, "Deployment").items():
        spec = pod_spec(deployment)
        for container in spec.get("initContainers", []) + spec["containers"]:
            urls = {k: v["value"] for k, v in env_map(container).items()
                    if k.endswith("_SERVICE_URL")}
            wanted = CALLS.get(name, ()) if container in spec["containers"] else ()
            # The owners' internal port: their feeds answer nowhere else.
            assert urls == {f"{peer.upper()}_SERVICE_URL": f"http://{peer}:9000"
                            for peer in wanted}, (name, container["name"])
        for peer in CALLS.get(name, ()):
            ports = {p["name"]: p["port"] for p in services[peer]["spec"]["ports"]}
            assert ports == {"http": 8000, "internal": 9000}


def test_services_serve_their_internal_port_on_9000(docs, target):
    """INTERNAL_PORT is what gunicorn binds and the app treats as internal; it must be
    the container's port `internal` (the Service, the policies and the monitors name it)."""
    for name, deployment in by_kind(docs(target), "Deployment").items():
        (app,) = pod_spec(deployment)["containers"]
        ports = {p["name"]: p["containerPort"] for p in app["ports"]}
        env = env_map(app)
        if name in PROJECTORS or name in AUXILIARY:
            assert "INTERNAL_PORT" not in env, name
            continue
        assert env["INTERNAL_PORT"]["value"] == str(ports["internal"]) == "9000", name
        for probe in ("readinessProbe", "livenessProbe"):
            assert app[probe]["httpGet"]["port"] == "http", name


# The key material each container reads (docs/security.md, "Token keys"): auth's
# container alone the user-token private key, each projector its own service key and
# nothing else, the migrate init containers none at all.
KEY_VARIABLES = {"JWT_PRIVATE_KEY", "JWT_PUBLIC_KEYS", "SERVICE_PUBLIC_KEYS",
                 "SERVICE_PRIVATE_KEY"}
PUBLIC_KEYS = {"JWT_PUBLIC_KEYS": ("configMapKeyRef", "user-token.jwks.json"),
               "SERVICE_PUBLIC_KEYS": ("configMapKeyRef", "service-keys.jwks.json")}
KEYS_OF = {
    "auth": {**PUBLIC_KEYS, "JWT_PRIVATE_KEY": ("secretKeyRef", "jwt-private-key.pem")},
    "profiles": PUBLIC_KEYS,
    "articles": PUBLIC_KEYS,
    "profiles-projector": {"SERVICE_PRIVATE_KEY": ("secretKeyRef", "service-key.pem")},
    "articles-projector": {"SERVICE_PRIVATE_KEY": ("secretKeyRef", "service-key.pem")},
}


def test_each_container_reads_exactly_the_keys_of_its_role(docs, target):
    rendered = docs(target)
    for name, deployment in by_kind(rendered, "Deployment").items():
        spec = pod_spec(deployment)
        for container in spec.get("initContainers", []):
            assert not KEY_VARIABLES & set(env_map(container)), (name, container["name"])
        (app,) = spec["containers"]
        env = env_map(app)
        keys = {var: next((kind, ref["key"]) for kind, ref in env[var]["valueFrom"].items())
                for var in KEY_VARIABLES & set(env)}
        assert keys == KEYS_OF.get(name, {}), name
        for source in app.get("envFrom", []):
            assert "secretRef" not in source, (name, source)   # no key by the back door
    # Which Secret holds which private key: one each, so a Pod gets exactly one.
    private = {(name, var): env_map(c)[var]["valueFrom"]["secretKeyRef"]["name"]
               for name, d in by_kind(rendered, "Deployment").items()
               for c in pod_spec(d)["containers"]
               for var in ("JWT_PRIVATE_KEY", "SERVICE_PRIVATE_KEY") if var in env_map(c)}
    assert {k: v.rsplit("-", 1)[0] for k, v in private.items()} == {
        ("auth", "JWT_PRIVATE_KEY"): "auth-token-key",
        ("profiles-projector", "SERVICE_PRIVATE_KEY"): "profiles-service-key",
        ("articles-projector", "SERVICE_PRIVATE_KEY"): "articles-service-key"}


def test_every_secret_and_configmap_reference_resolves(docs, target):
    rendered = docs(target)
    secrets, configmaps = by_kind(rendered, "Secret"), by_kind(rendered, "ConfigMap")
    for workload in workload_pods(rendered).values():
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, ref
                    # An optional key (set only during a key rotation) may be absent.
                    assert ref.get("optional") or ref["key"] in secrets[ref["name"]]["data"], ref
            for source in container.get("envFrom", []):
                runtime = configmaps[source["configMapRef"]["name"]]["data"]
                assert {"LOG_LEVEL", "WEB_CONCURRENCY"} <= set(runtime)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                data = configmaps[volume["configMap"]["name"]]["data"]
                assert {i["key"] for i in volume["configMap"]["items"]} <= set(data)


# --- Postgres -----------------------------------------------------------------------

def test_postgres_keeps_its_data_on_a_claim_behind_a_headless_service(docs, target):
    rendered = docs(target)
    if uses_cloudnative_pg(rendered):
        return  # the operator's Cluster: tests/deploy/test_cloudnative_pg.py
    postgres = by_kind(rendered, "StatefulSet")["postgres"]
    service = by_kind(rendered, "Service")[postgres["spec"]["serviceName"]]
    assert service["metadata"]["name"] == "postgres" and service["spec"]["clusterIP"] == "None"
    (claim,) = postgres["spec"]["volumeClaimTemplates"]
    (container,) = pod_spec(postgres)["containers"]
    assert container["image"] == "postgres:15-bookworm"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    pgdata = env_map(container)["PGDATA"]["value"]
    assert pgdata.startswith(mounts[claim["metadata"]["name"]] + "/")


def test_postgres_runs_only_the_bootstrap_script_from_initdb(docs, target):
    if uses_cloudnative_pg(docs(target)):
        return  # no StatefulSet: tests/deploy/test_cloudnative_pg.py
    postgres = by_kind(docs(target), "StatefulSet")["postgres"]
    spec = pod_spec(postgres)
    (container,) = spec["containers"]
    env = env_map(container)
    mounted = {}
    volumes = {v["name"]: v for v in spec["volumes"]}
    for mount in container["volumeMounts"]:
        volume = volumes.get(mount["name"], {})  # the data claim is not among them
        for item in volume.get("configMap", {}).get("items", []):
            mounted[item["key"]] = (mount["mountPath"] + "/" + item["path"],
                                    volume["configMap"]["defaultMode"])
    script, mode = mounted["bootstrap.sh"]
    assert script == "/docker-entrypoint-initdb.d/bootstrap.sh" and mode & 0o111
    assert not mounted["bootstrap.sql"][0].startswith("/docker-entrypoint-initdb.d/")
    assert env["CONDUIT_BOOTSTRAP_SQL"]["value"] == mounted["bootstrap.sql"][0]
    keys = {k: v["valueFrom"]["secretKeyRef"]["key"] for k, v in env.items() if "valueFrom" in v}
    assert keys == {"POSTGRES_USER": "DB_USER", "POSTGRES_PASSWORD": "DB_PASSWORD",
                    **{f"{s.upper()}_DB_PASSWORD": f"{s.upper()}_DB_PASSWORD" for s in SERVICES},
                    **{f"{s.upper()}_DB_OWNER_PASSWORD": f"{s.upper()}_DB_OWNER_PASSWORD"
                       for s in SERVICES}}


def test_bootstrap_configmap_is_the_db_folder_verbatim(docs, target):
    (bootstrap,) = [d for n, d in by_kind(docs(target), "ConfigMap").items()
                    if n.startswith("postgres-bootstrap")]
    assert bootstrap["data"] == {
        "bootstrap.sh": (ROOT / "db" / "bootstrap.sh").read_text(),
        "bootstrap.sql": (ROOT / "db" / "bootstrap.sql").read_text(),
    }


# --- environments ------------------------------------------------------------------

def test_dev_runs_one_replica_of_each_service(docs):
    for deployment in by_kind(docs("dev"), "Deployment").values():
        assert deployment["spec"]["replicas"] == 1


def test_projectors_run_one_active_instance_and_at_most_one_standby(docs, overlay):
    rendered = docs(overlay)
    scaled = {s["spec"]["scaleTargetRef"]["name"]
              for s in by_kind(rendered, "HorizontalPodAutoscaler").values()}
    for name, deployment in by_kind(rendered, "Deployment").items():
        if name in PROJECTORS:
            # An advisory lock lets one replica project; more would only wait.
            assert deployment["spec"]["replicas"] in (1, 2), name
            assert name not in scaled, f"{name}: CPU autoscaling cannot add throughput"


def test_gce_scales_and_rolls_without_losing_capacity(docs):
    rendered = docs("gce")
    scalers = by_kind(rendered, "HorizontalPodAutoscaler")
    budgets = by_kind(rendered, "PodDisruptionBudget")
    for name, deployment in by_kind(rendered, "Deployment").items():
        if name in PROJECTORS:
            assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
            continue
        replicas = deployment["spec"]["replicas"]
        assert replicas >= 2
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        if name in STATIC:
            # Static answers: a fixed pair, no CPU autoscaling, a node drain keeps one.
            assert name not in scalers
            assert 1 <= budgets[name]["spec"]["minAvailable"] < replicas
            continue
        scaler = scalers[name]["spec"]
        assert scaler["minReplicas"] == replicas < scaler["maxReplicas"]
        (metric,) = scaler["metrics"]
        assert metric["resource"]["name"] == "cpu"
        # A budget as large as the replica count would block every node drain.
        assert 1 <= budgets[name]["spec"]["minAvailable"] < replicas


# --- the API docs page ----------------------------------------------------------------

def test_docs_file_holds_its_serviceaccount_deployment_and_service():
    path = ROOT / "k8s" / "base" / f"{DOCS}.yaml"
    objects = list(yaml.safe_load_all(path.read_text()))
    assert sorted(d["kind"] for d in objects) == ["Deployment", "Service", "ServiceAccount"]
    for doc in objects:
        assert doc["metadata"]["name"] == DOCS
        assert doc["metadata"]["labels"]["app"] == DOCS
    listed = yaml.safe_load((ROOT / "k8s" / "base" / "kustomization.yaml").read_text())
    assert f"{DOCS}.yaml" in listed["resources"]


def test_docs_runs_as_a_non_root_user_of_the_image(docs, target):
    spec = pod_spec(by_kind(docs(target), "Deployment")[DOCS])
    context = spec["securityContext"]
    # nginx's uid in the image (docker/docs.Dockerfile `USER 101`); any non-root uid works.
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 101
    assert spec["automountServiceAccountToken"] is False
    (app,) = spec["containers"]
    assert app["securityContext"]["readOnlyRootFilesystem"] is True


def test_docs_serves_one_port_and_probes_it(docs, target):
    (app,) = pod_spec(by_kind(docs(target), "Deployment")[DOCS])["containers"]
    assert {p["name"]: p["containerPort"] for p in app["ports"]} == {"http": DOCS_PORT}
    readiness, liveness = app["readinessProbe"]["httpGet"], app["livenessProbe"]["httpGet"]
    # Ready once the page's files are served; alive while nginx answers.
    assert (readiness["path"], readiness["port"]) == ("/flask/api/docs/openapi.yml", "http")
    assert (liveness["path"], liveness["port"]) == ("/healthz", "http")
    limits = app["resources"]["limits"]
    assert quantity(limits["memory"]) <= 128 * 2**20 and quantity(limits["cpu"]) <= 0.5
    assert app["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"


def test_docs_reads_no_configuration_and_no_secret(docs, target):
    spec = pod_spec(by_kind(docs(target), "Deployment")[DOCS])
    (app,) = spec["containers"]
    assert not app.get("env") and not app.get("envFrom")
    assert [v for v in spec["volumes"] if "emptyDir" not in v] == []

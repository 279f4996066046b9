"""The gce connection budget: what the pods may open fits PgBouncer and Postgres.

    clients of the pooler (per PgBouncer pod, sized so that one pod can take them all
    when the other is gone):
        sum over auth, profiles, articles of
            (HPA maxReplicas + maxSurge) x workers x (DB_POOL_SIZE + overflow)
        (workers: WEB_CONCURRENCY, plus the dedicated internal worker of the event
        owners, whose gunicorn.conf.py sets INTERNAL_WORKER=dedicated)
        <= max_client_conn x (pooler instances - 1)
    server connections of the poolers:
        pooler instances x (max_db_connections + 1 for auth_query)
    direct connections to the primary (-rw Service, no pooler):
        projectors:  (replicas + maxSurge) x (pool_size + overflow)   [projector.py]
        migrations:  one per pod starting at once, every pod of every Deployment
        event feeds: owners' (HPA max + surge) x feed pool x (1 with a dedicated
                     internal worker, else WEB_CONCURRENCY)
    poolers' server connections + direct + superuser_reserved_connections (3)
        + headroom for the operator, backups and a psql (10) <= max_connections

Overflow = the pool size (conduit_common.db.create_db_engine: max_overflow=pool_size).
"""
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
APIS = ("auth", "profiles", "articles")
FEED_OWNERS = ("auth", "profiles")
PROJECTORS = {"profiles-projector": "profiles", "articles-projector": "articles"}
SUPERUSER_RESERVED = 3
HEADROOM = 10


def engine_connections(pool_size):
    """An engine's most connections: pool_size plus an overflow of the same size."""
    db_source = (ROOT / "libs/common/conduit_common/db.py").read_text()
    assert "max_overflow=pool_size" in db_source, "update the budget's overflow rule"
    return 2 * pool_size


def projector_pool_size(service):
    return importlib.import_module(f"conduit_{service}.projector").POOL_SIZE


def has_internal_worker(service):
    """gunicorn starts one worker more, which alone serves the internal port."""
    conf = (ROOT / f"services/{service}/gunicorn.conf.py").read_text()
    return '"INTERNAL_WORKER", "dedicated"' in conf


def feed_pool_size():
    source = (ROOT / "libs/common/conduit_common/events/feed.py").read_text()
    found = re.findall(r"FEED_POOL_SIZE = (\d+)", source)
    return int(found[0]) if found else None


def budget(rendered):
    by = {}
    for doc in rendered:
        by.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    (runtime,) = [c["data"] for n, c in by["ConfigMap"].items() if n.startswith("conduit-runtime")]
    workers = int(runtime["WEB_CONCURRENCY"])
    pool = int(runtime.get("DB_POOL_SIZE", 5))

    def most_pods(name):
        deployment = by["Deployment"][name]
        surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        scaler = by.get("HorizontalPodAutoscaler", {}).get(name)
        top = scaler["spec"]["maxReplicas"] if scaler else deployment["spec"]["replicas"]
        return top + surge

    (pooler,) = by["Pooler"].values()
    (cluster,) = by["Cluster"].values()
    params = pooler["spec"]["pgbouncer"]["parameters"]
    poolers = pooler["spec"]["instances"]
    feed = feed_pool_size()
    assert feed is not None, "the feed's direct pool size (FEED_POOL_SIZE) is not declared"
    clients = sum(most_pods(a) * (workers + has_internal_worker(a)) * engine_connections(pool)
                  for a in APIS)
    server = poolers * (int(params["max_db_connections"]) + 1)
    direct = {
        "projectors": sum(most_pods(p) * engine_connections(projector_pool_size(s))
                          for p, s in PROJECTORS.items()),
        # Every pod with a `migrate` init container (not the docs page's).
        "migrations": sum(most_pods(n) for n, d in by["Deployment"].items()
                          if d["spec"]["template"]["spec"].get("initContainers")),
        "feeds": sum(most_pods(o) * (1 if has_internal_worker(o) else workers)
                     * engine_connections(feed) for o in FEED_OWNERS),
    }
    return {
        "clients": clients,
        "client_capacity": int(params["max_client_conn"]) * (poolers - 1),
        "server": server,
        "direct": direct,
        "postgres": server + sum(direct.values()) + SUPERUSER_RESERVED + HEADROOM,
        "max_connections": int(cluster["spec"]["postgresql"]["parameters"]["max_connections"]),
        "pool_per_user": int(params["default_pool_size"]) + int(params.get("reserve_pool_size", 0)),
        "max_db_connections": int(params["max_db_connections"]),
    }


@pytest.fixture(params=["gce", "gce+gateway-api"])
def numbers(request, docs):
    return budget(docs(request.param))


def test_one_pooler_pod_takes_every_client_when_the_other_is_gone(numbers):
    assert numbers["clients"] <= numbers["client_capacity"], numbers


def test_poolers_and_direct_connections_fit_max_connections(numbers):
    assert numbers["postgres"] <= numbers["max_connections"], numbers


def test_the_three_roles_can_use_the_database_cap_of_a_pooler(numbers):
    # Three (role, conduit) pools share max_db_connections: none alone can starve it,
    # and together they can use it.
    assert numbers["pool_per_user"] < numbers["max_db_connections"]
    assert 3 * numbers["pool_per_user"] >= numbers["max_db_connections"]


def test_the_budget_notices_a_larger_autoscaler(docs):
    rendered = docs("gce")
    for doc in rendered:
        if doc["kind"] == "HorizontalPodAutoscaler" and doc["metadata"]["name"] == "articles":
            doc["spec"]["maxReplicas"] = 60
    numbers = budget(rendered)
    assert numbers["clients"] > numbers["client_capacity"]

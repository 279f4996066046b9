"""The bootstrap's schemas and the session lifecycle, on a real Postgres.

The owner/runtime split itself (what each role may do) is test_roles.py.
"""
import time

import falcon
import falcon.testing
import pytest
import sqlalchemy
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from conduit_common.app import create_service_app
from conduit_common.db import SessionManager, create_db_engine
from conduit_common.settings import CommonSettings
from conduit_common.testing.keys import USER_TOKEN_KEYS


@pytest.fixture
def auth_engine(conduit_database):
    """The auth runtime role's engine over a `notes` table its owner role made."""
    owner = sqlalchemy.create_engine(conduit_database.owner_url_for("auth"), poolclass=NullPool)
    with owner.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE IF EXISTS notes"))
        connection.execute(sqlalchemy.text("CREATE TABLE notes (body text NOT NULL)"))
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=2)
    yield engine
    engine.dispose()
    with owner.begin() as connection:
        connection.execute(sqlalchemy.text("DROP TABLE notes"))
    owner.dispose()


def notes(engine):
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text("SELECT body FROM notes")).scalars().all()


def test_each_role_lands_in_its_own_schema(conduit_database):
    for service in ("auth", "profiles", "articles"):
        for url in (conduit_database.url_for(service), conduit_database.owner_url_for(service)):
            engine = sqlalchemy.create_engine(url)
            with engine.connect() as connection:
                schema = connection.execute(sqlalchemy.text("SELECT current_schema()")).scalar()
            engine.dispose()
            assert schema == service


def test_a_service_role_cannot_read_another_schema(conduit_database, auth_engine):
    engine = sqlalchemy.create_engine(conduit_database.url_for("profiles"))
    try:
        with pytest.raises(ProgrammingError, match="permission denied for schema auth"):
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT * FROM auth.notes"))
    finally:
        engine.dispose()


def test_a_service_role_cannot_create_in_public(conduit_database):
    engine = sqlalchemy.create_engine(conduit_database.url_for("articles"))
    try:
        with pytest.raises(ProgrammingError, match="permission denied"):
            with engine.begin() as connection:
                connection.execute(sqlalchemy.text("CREATE TABLE public.intruder (x int)"))
    finally:
        engine.dispose()


def test_session_scope_commits_on_success(auth_engine):
    with SessionManager(auth_engine).session() as session:
        session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('kept')"))
    assert notes(auth_engine) == ["kept"]


def test_session_scope_rolls_back_on_error(auth_engine):
    with pytest.raises(RuntimeError):
        with SessionManager(auth_engine).session() as session:
            session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('lost')"))
            raise RuntimeError("boom")
    assert notes(auth_engine) == []


class Writer:
    def on_post(self, req, resp):
        req.context.session.execute(sqlalchemy.text("INSERT INTO notes VALUES (:b)"),
                                    {"b": req.media["body"]})
        if req.media.get("fail"):
            raise falcon.HTTPBadRequest(description="refused after writing")
        resp.media = {"ok": True}


@pytest.fixture
def client(conduit_database, auth_engine):
    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS,
                              database_url=conduit_database.url_for("auth"))
    app = create_service_app("probe", settings, auth_engine)
    app.add_route("/notes", Writer())
    return falcon.testing.TestClient(app)


def test_middleware_commits_a_successful_request(client, auth_engine):
    assert client.simulate_post("/notes", json={"body": "hello"}).status_code == 200
    assert notes(auth_engine) == ["hello"]


def test_middleware_rolls_back_a_failed_request(client, auth_engine):
    assert client.simulate_post("/notes", json={"body": "x", "fail": True}).status_code == 400
    assert notes(auth_engine) == []


def test_middleware_returns_every_connection_to_the_pool(client, auth_engine):
    for _ in range(10):
        client.simulate_post("/notes", json={"body": "x", "fail": True})
        client.simulate_post("/notes", json={"body": "y"})
    assert auth_engine.pool.checkedout() == 0


def test_readyz_is_200_when_the_database_answers(client):
    result = client.simulate_get("/readyz")
    assert result.status_code == 200
    assert result.json == {"status": "ready"}


class Reader:
    def on_get(self, req, resp):
        session = req.context.session
        resp.media = {"in_transaction": session.execute(sqlalchemy.text(
            "SELECT now() <> statement_timestamp()")).scalar()}


def test_reads_run_without_a_transaction_round_trip(client):
    # Inside a transaction now() is frozen at BEGIN; in autocommit each statement is
    # its own transaction, so now() equals the statement's timestamp.
    client.app.add_route("/read", Reader())
    result = client.simulate_get("/read")
    assert result.status_code == 200
    assert result.json == {"in_transaction": False}


class ReaderOfItsUnit:
    def on_get(self, req, resp):
        resp.media = {"unit": type(req.context.session).__name__}


def test_a_read_gets_a_core_connection_and_gives_it_back(client, auth_engine):
    client.app.add_route("/unit", ReaderOfItsUnit())
    for _ in range(5):
        assert client.simulate_get("/unit").json == {"unit": "Connection"}
    assert auth_engine.pool.checkedout() == 0


def test_a_throwaway_cluster_leaves_no_directory_behind():
    from conduit_common.testing.postgres import ThrowawayCluster

    cluster = ThrowawayCluster().start()
    directory = cluster.datadir.parent
    assert (cluster.datadir / "PG_VERSION").exists()
    cluster.stop()
    assert not directory.exists()


@pytest.mark.parametrize("durable, fsync", [(False, "off"), (True, "on")])
def test_only_a_durable_cluster_keeps_fsync_on(durable, fsync):
    """`make run` keeps its data (durable); the tests' clusters trade fsync for speed."""
    from conduit_common.testing.postgres import ThrowawayCluster

    cluster = ThrowawayCluster(durable=durable).start()
    try:
        engine = sqlalchemy.create_engine(cluster.admin_url)
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SHOW fsync")).scalar() == fsync
        engine.dispose()
    finally:
        cluster.stop()


def test_database_errors_never_carry_the_bound_values(auth_engine):
    with pytest.raises(sqlalchemy.exc.DBAPIError) as caught:
        with auth_engine.begin() as connection:
            connection.execute(sqlalchemy.text("INSERT INTO notes (body) VALUES (:body::int)"),
                               {"body": "argon2-hash-of-a-password"})

    assert "argon2-hash-of-a-password" not in str(caught.value)


def test_a_statement_over_the_budget_is_cancelled_and_answers_503(conduit_database):
    """DB_STATEMENT_TIMEOUT_MS: a slow query frees its worker and gives a clean 503."""
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=1,
                              statement_timeout_ms=200)

    class Slow:
        def on_get(self, req, resp):
            req.context.session.execute(sqlalchemy.text("SELECT pg_sleep(5)"))

    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS,
                              database_url="unused")
    app = create_service_app("auth", settings, engine)
    app.add_route("/slow", Slow())
    started = time.monotonic()
    resp = falcon.testing.TestClient(app).simulate_get("/slow")
    elapsed = time.monotonic() - started
    engine.dispose()

    assert resp.status_code == 503, resp.text
    assert resp.json["errors"]["body"]
    assert elapsed < 2


def test_without_a_statement_budget_the_server_default_holds(conduit_database):
    """The projectors' engines pass none: their batches may run longer than a request."""
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=1)
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SHOW statement_timeout")).scalar() == "0"
    engine.dispose()


def test_an_idle_connection_killed_by_the_server_is_replaced_not_served(
        conduit_database, monkeypatch):
    from conduit_common import db
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = db.create_db_engine(conduit_database.url_for("auth"), pool_size=1)
    with engine.connect() as connection:
        pid = connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one()
    admin = sqlalchemy.create_engine(conduit_database.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:     # as a database restart would
        connection.execute(sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()

    with engine.connect() as connection:    # the pooled one fails its ping: a fresh one
        assert connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one() != pid
    engine.dispose()


def test_only_a_connection_idle_for_a_while_is_pinged(conduit_database, monkeypatch):
    from conduit_common import db
    engine = db.create_db_engine(conduit_database.url_for("auth"), pool_size=1)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda connection: pings.append(1) or real_ping(connection))
    for _ in range(3):                      # back-to-back: no round trip spent on pings
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    busy = len(pings)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT 1"))

    assert (busy, len(pings)) == (0, 1)
    engine.dispose()


def test_on_an_autocommit_engine_writes_are_still_transactions(conduit_database, auth_engine):
    """service_engine's connections rest in autocommit; SessionManager's units of work
    that write must still commit or roll back as one."""
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=1, autocommit=True)
    try:
        with pytest.raises(RuntimeError):
            with SessionManager(engine).session() as session:
                session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('lost')"))
                raise RuntimeError("boom")
        with SessionManager(engine).session() as session:
            session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('kept')"))
            in_transaction = session.execute(sqlalchemy.text(
                "SELECT now() <> statement_timestamp()")).scalar()
        with engine.connect() as connection:   # a bare connection: autocommit
            idle = connection.execute(sqlalchemy.text(
                "SELECT now() <> statement_timestamp()")).scalar()
    finally:
        engine.dispose()

    assert notes(auth_engine) == ["kept"]
    assert in_transaction is True
    assert idle is False


def test_on_an_autocommit_engine_a_read_after_a_write_is_in_autocommit(
        conduit_database, auth_engine):
    """Reads on an engine at rest in autocommit take the pooled connection as it is (no
    mode switch): the one connection a write has just used must be back in autocommit,
    and the write committed."""
    engine = create_db_engine(conduit_database.url_for("auth"), pool_size=1, autocommit=True)
    settings = CommonSettings(jwt_public_keys=USER_TOKEN_KEYS,
                              database_url=conduit_database.url_for("auth"))
    app = create_service_app("probe", settings, engine)
    app.add_route("/notes", Writer())
    app.add_route("/read", Reader())
    client = falcon.testing.TestClient(app)
    try:
        for body in ("first", "second"):
            assert client.simulate_post("/notes", json={"body": body}).status_code == 200
            assert client.simulate_get("/read").json == {"in_transaction": False}
        assert client.simulate_post("/notes", json={"body": "x", "fail": True}).status_code == 400
        assert client.simulate_get("/read").json == {"in_transaction": False}
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()
    assert notes(auth_engine) == ["first", "second"]


def _last_query(engine, backend_pid: int) -> str:
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text(
            "SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}).scalar()


def _backend_pid(connection) -> int:
    # libpq's cached value: no round trip
    return connection.connection.dbapi_connection.info.backend_pid


def test_switching_in_and_out_of_autocommit_sends_nothing(conduit_database, auth_engine):
    """A write on the API's engine (at rest in autocommit) and a batch in autocommit on a
    projector's engine (at rest in transactions) switch modes with the driver's flags
    alone. (Under psycopg2, SQLAlchemy's isolation-level switch sent `SET
    default_transaction_isolation`: one round trip more per write and per batch.)"""
    url = conduit_database.url_for("auth")
    api = create_db_engine(url, pool_size=1, autocommit=True)
    projector = create_db_engine(url, pool_size=1)
    try:
        with SessionManager(api).session() as session:
            session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('first')"))
        with SessionManager(api).session() as session:
            connection = session.connection()   # checked out and switched, nothing run yet
            before_first_statement = _last_query(auth_engine, _backend_pid(connection))
            level = session.execute(sqlalchemy.text("SHOW transaction_isolation")).scalar()
            session.execute(sqlalchemy.text("INSERT INTO notes VALUES ('second')"))
            in_transaction = session.execute(sqlalchemy.text(
                "SELECT now() <> statement_timestamp()")).scalar()
        autocommit = projector.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as connection:
            batch_pid = _backend_pid(connection)
            connection.execute(sqlalchemy.text("INSERT INTO notes VALUES ('batch')"))
        after_batch = _last_query(auth_engine, batch_pid)
        with projector.connect() as connection:   # back in transactions after the batch
            same_connection = _backend_pid(connection) == batch_pid
            connection.execute(sqlalchemy.text("INSERT INTO notes VALUES ('rolled back')"))
            connection.rollback()
    finally:
        api.dispose()
        projector.dispose()

    assert before_first_statement == "COMMIT"   # the first write's last round trip
    assert (level, in_transaction) == ("read committed", True)
    assert after_batch == "INSERT INTO notes VALUES ('batch')"
    assert same_connection
    assert sorted(notes(auth_engine)) == ["batch", "first", "second"]


def test_bootstraps_on_one_server_at_once_all_succeed(postgres_admin_url):
    """tests/ci runs several services' CI jobs against one cluster, and each job's
    session bootstraps its own database; the roles they share are cluster-wide."""
    from concurrent.futures import ThreadPoolExecutor
    from conduit_common.testing import postgres

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _created_or_error(postgres, postgres_admin_url),
                                range(4)))
    for result in results:
        if not isinstance(result, Exception):
            postgres.drop_database(result)

    assert [r for r in results if isinstance(r, Exception)] == []


def _created_or_error(postgres, admin_url):
    try:
        return postgres.create_test_database(admin_url)
    except Exception as ex:  # noqa: BLE001 - collected and asserted on
        return ex

"""Least privilege in the database (db/bootstrap.sql): per service an owner role that
migrations use and a DML-only runtime role that the API and its projector use.

What the runtime role may do is what the services do at runtime (DML, the outbox's
NOTIFY, LISTEN, advisory locks, pg_current_xact_id()); it may create, alter, drop or
truncate nothing, and sees no other schema. Nobody but superusers connects to the
maintenance databases.
"""
import pytest
import sqlalchemy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.pool import NullPool

from conduit_common.migrations import upgrade
from conduit_common.testing import postgres

SERVICES = postgres.SERVICES


def engine_for(url: str, **kwargs) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(url, poolclass=NullPool, **kwargs)


def run(url: str, *statements: str) -> list:
    """Each statement in one transaction; the rows of the last one."""
    engine = engine_for(url)
    try:
        with engine.begin() as connection:
            result = None
            for statement in statements:
                result = connection.execute(sqlalchemy.text(statement))
            return result.all() if result is not None and result.returns_rows else []
    finally:
        engine.dispose()


def admin_rows(database, sql: str, **params) -> list:
    url = make_url(database.admin_url).set(database=database.name)
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(sql), params).all()
    finally:
        engine.dispose()


@pytest.fixture
def scratch(conduit_database):
    """auth's owner makes a table (identity sequence), a function and a trigger, as a
    migration would; dropped again after the test."""
    owner = conduit_database.owner_url_for("auth")
    run(owner, "DROP TABLE IF EXISTS scratch", "DROP FUNCTION IF EXISTS scratch_double(int)",
        "CREATE TABLE scratch (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "body text NOT NULL)",
        "CREATE FUNCTION scratch_double(n int) RETURNS int LANGUAGE sql AS 'SELECT 2 * n'",
        "CREATE FUNCTION scratch_notify() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('auth_scratch', ''); RETURN NULL; END $$",
        "CREATE TRIGGER scratch_notify AFTER INSERT ON scratch "
        "FOR EACH STATEMENT EXECUTE FUNCTION scratch_notify()")
    yield conduit_database.url_for("auth")
    run(owner, "DROP TABLE scratch", "DROP FUNCTION scratch_double(int)",
        "DROP FUNCTION scratch_notify()")


# --- who owns what -------------------------------------------------------------------

def test_each_schema_belongs_to_its_owner_role_and_no_runtime_role_owns_anything(
        conduit_database):
    owners = dict(admin_rows(conduit_database,
                             "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                             "WHERE nspname = ANY(:s)", s=list(SERVICES)))
    assert owners == {s: f"conduit_{s}_owner" for s in SERVICES}
    owned = admin_rows(conduit_database,
                       "SELECT r.rolname, count(*) FROM pg_shdepend d JOIN pg_roles r "
                       "ON r.oid = d.refobjid WHERE d.deptype = 'o' AND r.rolname = ANY(:r) "
                       "GROUP BY 1", r=[f"conduit_{s}" for s in SERVICES])
    assert owned == []


def test_no_service_role_has_any_power_beyond_login(conduit_database):
    roles = admin_rows(
        conduit_database,
        "SELECT rolname, rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication "
        "OR rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname LIKE 'conduit\\_%'")
    wanted = {f"conduit_{s}{suffix}" for s in SERVICES for suffix in ("", "_owner")}
    assert {name for name, _, _ in roles} >= wanted
    assert {(name, powers, login) for name, powers, login in roles if name in wanted} == {
        (name, False, True) for name in wanted}
    # No role is a member of another: the runtime role cannot SET ROLE to its owner.
    members = admin_rows(conduit_database,
                         "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r "
                         "ON r.oid = m.member WHERE r.rolname = ANY(:r)", r=sorted(wanted))
    assert members == [(0,)]


# --- the runtime role: data, never structure -----------------------------------------

def test_the_runtime_role_works_with_what_the_owner_creates_later(scratch):
    """Default privileges: DML, the identity sequence, EXECUTE, the NOTIFY trigger."""
    rows = run(scratch,
               "INSERT INTO scratch (body) VALUES ('a'), ('b')",
               "UPDATE scratch SET body = 'c' WHERE body = 'b'",
               "DELETE FROM scratch WHERE body = 'a'",
               "SELECT body, scratch_double(21) FROM scratch FOR UPDATE")
    assert rows == [("c", 42)]


def test_the_runtime_role_can_do_what_the_services_do_at_runtime(scratch):
    rows = run(scratch,
               "LISTEN auth_outbox",
               "SELECT pg_notify('auth_outbox', '')",
               "SELECT pg_try_advisory_lock(42)",
               "SELECT pg_advisory_unlock(42)",
               "SELECT pg_current_xact_id() IS NOT NULL, current_schema()")
    assert rows == [(True, "auth")]


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (id int)",
    "CREATE TABLE auth.intruder (id int)",
    "CREATE VIEW intruder AS SELECT 1",
    "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE SEQUENCE intruder",
    "CREATE INDEX intruder ON scratch (body)",
    "ALTER TABLE scratch ADD COLUMN extra int",
    "ALTER TABLE scratch DISABLE TRIGGER scratch_notify",
    "DROP TABLE scratch",
    "DROP FUNCTION scratch_double(int)",
    "TRUNCATE scratch",
    "ALTER SEQUENCE scratch_id_seq RESTART",
    "SELECT setval('scratch_id_seq', 1)",
    "CREATE TEMPORARY TABLE intruder (id int)",
    "CREATE SCHEMA intruder",
    "CREATE TABLE public.intruder (id int)",
])
def test_the_runtime_role_cannot_change_the_schema(scratch, statement):
    with pytest.raises(ProgrammingError, match="permission denied|must be owner"):
        run(scratch, statement)


def test_the_runtime_role_cannot_pass_its_privileges_on(conduit_database, scratch):
    run(scratch, "GRANT SELECT ON scratch TO conduit_profiles")  # a warning, nothing granted
    assert admin_rows(conduit_database,
                      "SELECT has_table_privilege('conduit_profiles', 'auth.scratch', "
                      "'SELECT')") == [(False,)]


@pytest.mark.parametrize("reader", SERVICES)
def test_no_role_reads_another_service_schema(conduit_database, reader):
    for other in SERVICES:
        if other == reader:
            continue
        for url in (conduit_database.url_for(reader), conduit_database.owner_url_for(reader)):
            with pytest.raises(ProgrammingError, match=f"permission denied for schema {other}"):
                run(url, f"SELECT * FROM {other}.alembic_version")
            with pytest.raises(ProgrammingError, match=f"permission denied for schema {other}"):
                run(url, f"CREATE TABLE {other}.intruder (id int)")


# --- the owner role: migrations ------------------------------------------------------

def test_the_owner_migrates_and_the_runtime_role_then_serves(postgres_admin_url):
    """The real auth migrations as the owner, the runtime role on their tables (a
    database of its own: the session's auth schema holds the sample migrations)."""
    database = postgres.create_test_database(postgres_admin_url)
    try:
        ini = postgres.repo_root() / "services" / "auth" / "alembic.ini"
        upgrade(ini, database.owner_url_for("auth"))
        run(database.url_for("auth"),
            "LISTEN auth_outbox",
            "INSERT INTO outbox (type, data) VALUES ('Probe', '{}')")
        # numbered at its commit, by the trigger running as the runtime role
        rows = run(database.url_for("auth"),
                   "DELETE FROM outbox WHERE type = 'Probe' RETURNING seq IS NOT NULL")
        assert rows == [(True,)]
        owners = admin_rows(database, "SELECT DISTINCT tableowner FROM pg_tables "
                                      "WHERE schemaname = 'auth'")
        assert owners == [("conduit_auth_owner",)]
    finally:
        postgres.drop_database(database)


# --- the maintenance databases -------------------------------------------------------

@pytest.mark.parametrize("dbname", ["postgres", "template1"])
def test_no_service_role_connects_to_the_maintenance_databases(conduit_database, dbname):
    refused = f'permission denied for database "{dbname}"'
    for service in SERVICES:
        for url in (conduit_database.url_for(service), conduit_database.owner_url_for(service)):
            with pytest.raises(OperationalError, match=refused):
                run(make_url(url).set(database=dbname), "SELECT 1")


def test_public_has_nothing_on_the_databases_but_template0(conduit_database):
    grants = admin_rows(conduit_database,
                        "SELECT d.datname, a.privilege_type FROM pg_database d, "
                        "aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a "
                        "WHERE a.grantee = 0 AND d.datname IN ('postgres', 'template1', :db)",
                        db=conduit_database.name)
    assert grants == []


# --- a database from before the split ------------------------------------------------

def test_bootstrap_hands_an_old_service_owned_schema_to_the_owner(postgres_admin_url):
    """Before the split conduit_<svc> owned its schema and tables; running the bootstrap
    again (make run does on every start) moves them to conduit_<svc>_owner."""
    database = postgres.create_test_database(postgres_admin_url)
    try:
        # The old layout: auth's schema owned by conduit_auth, migrated as conduit_auth.
        admin = make_url(database.admin_url).set(database=database.name)
        run(admin, "REASSIGN OWNED BY conduit_auth_owner TO conduit_auth",
            "ALTER DEFAULT PRIVILEGES FOR ROLE conduit_auth_owner IN SCHEMA auth "
            "REVOKE ALL ON TABLES FROM conduit_auth")
        ini = postgres.repo_root() / "services" / "auth" / "alembic.ini"
        upgrade(ini, database.url_for("auth"))
        assert admin_rows(database, "SELECT DISTINCT tableowner FROM pg_tables "
                                    "WHERE schemaname = 'auth'") == [("conduit_auth",)]

        postgres.bootstrap(database.admin_url, database.name, database.passwords)

        assert admin_rows(database, "SELECT DISTINCT tableowner FROM pg_tables "
                                    "WHERE schemaname = 'auth'") == [("conduit_auth_owner",)]
        assert admin_rows(database, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                                    "WHERE nspname = 'auth'") == [("conduit_auth_owner",)]
        runtime = database.url_for("auth")
        assert run(runtime, "SELECT count(*) FROM users") == [(0,)]
        with pytest.raises(ProgrammingError, match="must be owner"):
            run(runtime, "DROP TABLE users")
        with pytest.raises(ProgrammingError, match="permission denied"):
            run(runtime, "UPDATE alembic_version SET version_num = 'x'")
        upgrade(ini, database.owner_url_for("auth"))   # the owner migrates from here on
    finally:
        postgres.drop_database(database)

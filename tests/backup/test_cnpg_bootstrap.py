"""The CloudNativePG bootstrap SQL (plain SQL, no psql) yields the catalog that
db/bootstrap.sql yields: same roles, schemas and owners, database, schema and default
privileges (the owner/runtime split), search_path per role, and after the services'
migrations (run as the owner roles) the same tables, owners and grants. And the owners'
event feed can LISTEN away from a pooler."""
from pathlib import Path

import sqlalchemy
from conduit_common.migrations import upgrade
from conduit_common.testing import postgres

ROOT = Path(__file__).resolve().parents[2]
CNPG_SQL = ROOT / "k8s" / "components" / "cloudnative-pg" / "bootstrap.sql"
ROLES = tuple(role for s in postgres.SERVICES
              for role in (postgres.runtime_role(s), postgres.owner_role(s)))


def catalog(admin_url, dbname):
    engine = sqlalchemy.create_engine(admin_url.rsplit("/", 1)[0] + f"/{dbname}")
    try:
        with engine.connect() as connection:
            def rows(sql, **params):
                return sorted(tuple(r) for r in connection.execute(sqlalchemy.text(sql), params))
            # ACL entries as (grantee, privilege, grantor) without the owner's own.
            return {
                "roles": rows("SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, "
                              "rolreplication, rolbypassrls, rolinherit FROM pg_roles "
                              "WHERE rolname = ANY(:r)", r=list(ROLES)),
                "memberships": rows("SELECT m.roleid::regrole::text, m.member::regrole::text "
                                    "FROM pg_auth_members m WHERE m.member::regrole::text = "
                                    "ANY(:r) OR m.roleid::regrole::text = ANY(:r)", r=list(ROLES)),
                "schemas": rows("SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                                "WHERE nspname IN ('auth', 'profiles', 'articles')"),
                "schema_acl": rows(
                    "SELECT n.nspname, a.grantee::regrole::text, a.privilege_type "
                    "FROM pg_namespace n, aclexplode(coalesce(n.nspacl, "
                    "acldefault('n', n.nspowner))) a WHERE n.nspname IN "
                    "('auth', 'profiles', 'articles', 'public') AND a.grantee <> n.nspowner"),
                # This database and the maintenance ones (CNPG's owner of the application
                # database differs: its own entries are left out).
                "database_acl": rows(
                    "SELECT CASE WHEN d.datname = current_database() THEN 'app' "
                    "ELSE d.datname END, a.grantee::regrole::text, a.privilege_type "
                    "FROM pg_database d, aclexplode(coalesce(d.datacl, "
                    "acldefault('d', d.datdba))) a WHERE (d.datname = current_database() "
                    "OR d.datname IN ('postgres', 'template1')) AND a.grantee <> d.datdba"),
                "default_acl": rows(
                    "SELECT pg_get_userbyid(d.defaclrole), d.defaclnamespace::regnamespace::text, "
                    "d.defaclobjtype, a.grantee::regrole::text, a.privilege_type "
                    "FROM pg_default_acl d, aclexplode(d.defaclacl) a"),
                "settings": rows("SELECT r.rolname, s.setconfig::text FROM pg_db_role_setting s "
                                 "JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d "
                                 "ON d.oid = s.setdatabase WHERE d.datname = current_database()"),
                "relations": rows(
                    "SELECT n.nspname, c.relname, c.relkind::text, pg_get_userbyid(c.relowner) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname IN ('auth', 'profiles', 'articles')"),
                "relation_acl": rows(
                    "SELECT n.nspname, c.relname, a.grantee::regrole::text, a.privilege_type, "
                    "a.grantor::regrole::text FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace, aclexplode(coalesce(c.relacl, "
                    "acldefault('r', c.relowner))) a WHERE n.nspname IN "
                    "('auth', 'profiles', 'articles') AND a.grantee <> c.relowner"),
                "function_acl": rows(
                    "SELECT n.nspname, p.proname, pg_get_userbyid(p.proowner), "
                    "a.grantee::regrole::text, a.privilege_type FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(coalesce("
                    "p.proacl, acldefault('f', p.proowner))) a WHERE n.nspname IN "
                    "('auth', 'profiles', 'articles') AND a.grantee <> p.proowner"),
            }
    finally:
        engine.dispose()


def migrate_all(database: postgres.ConduitDatabase) -> None:
    for service in postgres.SERVICES:
        upgrade(ROOT / "services" / service / "alembic.ini", database.owner_url_for(service))


def test_cnpg_bootstrap_matches_db_bootstrap():
    reference = postgres.ThrowawayCluster().start()
    cnpg = postgres.ThrowawayCluster().start()
    try:
        ours = postgres.bootstrap(reference.admin_url, "conduit")
        engine = sqlalchemy.create_engine(cnpg.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            # What CloudNativePG's initdb does first: the application database, owned
            # by a role of its own (spec.bootstrap.initdb.owner).
            connection.exec_driver_sql("CREATE ROLE conduit_owner LOGIN")
            connection.exec_driver_sql("CREATE DATABASE conduit OWNER conduit_owner")
        engine.dispose()
        engine = sqlalchemy.create_engine(cnpg.admin_url.rsplit("/", 1)[0] + "/conduit")
        for _ in range(2):  # idempotent, as db/bootstrap.sql is
            with engine.begin() as connection:
                # The DBAPI cursor without parameters: the SQL's %I reaches the server.
                connection.connection.cursor().execute(CNPG_SQL.read_text())
        # What `managed.roles` does: the passwords from the Secrets.
        with engine.begin() as connection:
            for key in postgres.password_keys():   # auth -> conduit_auth, auth_owner -> ...
                connection.exec_driver_sql(
                    f"ALTER ROLE conduit_{key} PASSWORD '{ours.passwords[key]}'")
        engine.dispose()
        theirs = postgres.ConduitDatabase(cnpg.admin_url, "conduit", ours.passwords)

        expected = catalog(reference.admin_url, "conduit")
        # The comparison means something: the split is there on our side.
        assert len(expected["roles"]) == 6 and not expected["memberships"]
        assert {owner for _, owner in expected["schemas"]} == {
            postgres.owner_role(s) for s in postgres.SERVICES}
        assert [row for row in expected["database_acl"] if row[0] != "app"] == []
        assert {row[3] for row in expected["default_acl"]} == {
            postgres.runtime_role(s) for s in postgres.SERVICES}
        assert expected["settings"] and expected["schema_acl"]
        assert catalog(cnpg.admin_url, "conduit") == expected

        # Both migrated by the owner roles: the same tables, owners and grants.
        migrate_all(ours)
        migrate_all(theirs)
        expected = catalog(reference.admin_url, "conduit")
        assert {(s, g, p) for s, _, g, p, _ in expected["relation_acl"]} >= {
            ("auth", "conduit_auth", "DELETE"), ("articles", "conduit_articles", "UPDATE")}
        assert expected["function_acl"]   # the outbox's NOTIFY trigger functions
        assert catalog(cnpg.admin_url, "conduit") == expected
    finally:
        reference.stop()
        cnpg.stop()


def do_block(text: str) -> str:
    start = text.index("DO $bootstrap$")
    return text[start:text.index("$bootstrap$;", start + 1)]


def test_the_cnpg_sql_is_the_do_block_of_db_bootstrap_verbatim():
    """One text to review: db/bootstrap.sql wraps the block with psql (the database,
    the passwords), CloudNativePG runs it alone (the operator sets the passwords)."""
    ours = (ROOT / "db" / "bootstrap.sql").read_text()
    theirs = CNPG_SQL.read_text()
    assert do_block(theirs) == do_block(ours)
    assert theirs.rstrip().endswith("$bootstrap$;")
    statements = theirs[:theirs.index("DO $bootstrap$")]
    assert all(line.startswith("--") for line in statements.splitlines() if line.strip())


def test_the_feed_listens_on_the_direct_url_when_given(monkeypatch):
    from conduit_common.events.feed import EventFeedResource
    from conduit_common.events.outbox import Outbox, outbox_tables

    outbox = Outbox(outbox_tables(sqlalchemy.MetaData(schema="auth")))
    pooled = sqlalchemy.create_engine("postgresql+psycopg://u:p@pooler:5432/conduit")
    monkeypatch.delenv("DIRECT_DATABASE_URL", raising=False)
    assert EventFeedResource(outbox, pooled)._engine.url.host == "pooler"
    monkeypatch.setenv("DIRECT_DATABASE_URL",
                       "postgresql+psycopg://u:p@conduit-db-rw:5432/conduit")
    assert EventFeedResource(outbox, pooled)._engine.url.host == "conduit-db-rw"

"""The CloudNativePG bootstrap SQL (plain SQL, no psql) yields the catalog that
db/bootstrap.sql yields: same roles, schemas and owners, database and schema grants,
search_path per role. And the owners' event feed can LISTEN away from a pooler."""
from pathlib import Path

import sqlalchemy
from conduit_common.testing import postgres

ROOT = Path(__file__).resolve().parents[2]
CNPG_SQL = ROOT / "k8s" / "components" / "cloudnative-pg" / "bootstrap.sql"
ROLES = ("conduit_auth", "conduit_profiles", "conduit_articles")


def catalog(admin_url, dbname):
    engine = sqlalchemy.create_engine(admin_url.rsplit("/", 1)[0] + f"/{dbname}")
    try:
        with engine.connect() as connection:
            def rows(sql, **params):
                return sorted(tuple(r) for r in connection.execute(sqlalchemy.text(sql), params))
            return {
                "roles": rows("SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole "
                              "FROM pg_roles WHERE rolname = ANY(:r)", r=list(ROLES)),
                "schemas": rows("SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace "
                                "WHERE nspname IN ('auth', 'profiles', 'articles')"),
                "public_acl": rows("SELECT coalesce(nspacl::text, '') FROM pg_namespace "
                                   "WHERE nspname = 'public'"),
                # ACL entries without the owner's own (the superuser in both cases).
                "database_acl": rows(
                    "SELECT a.grantee::regrole::text, a.privilege_type FROM pg_database d, "
                    "aclexplode(d.datacl) a WHERE d.datname = current_database() "
                    "AND a.grantee <> d.datdba"),
                "settings": rows("SELECT r.rolname, s.setconfig::text FROM pg_db_role_setting s "
                                 "JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d "
                                 "ON d.oid = s.setdatabase WHERE d.datname = current_database()"),
            }
    finally:
        engine.dispose()


def test_cnpg_bootstrap_matches_db_bootstrap():
    reference = postgres.ThrowawayCluster().start()
    cnpg = postgres.ThrowawayCluster().start()
    try:
        postgres.bootstrap(reference.admin_url, "conduit")
        engine = sqlalchemy.create_engine(cnpg.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            # What CloudNativePG's initdb does first: the application database.
            connection.exec_driver_sql("CREATE DATABASE conduit")
        engine.dispose()
        engine = sqlalchemy.create_engine(cnpg.admin_url.rsplit("/", 1)[0] + "/conduit")
        for _ in range(2):  # idempotent, as db/bootstrap.sql is
            with engine.begin() as connection:
                # The DBAPI cursor without parameters: the SQL's %I reaches the server.
                connection.connection.cursor().execute(CNPG_SQL.read_text())
        engine.dispose()
        expected = catalog(reference.admin_url, "conduit")
        assert expected["schemas"] and expected["settings"] and expected["database_acl"]
        assert catalog(cnpg.admin_url, "conduit") == expected
    finally:
        reference.stop()
        cnpg.stop()


def test_the_feed_listens_on_the_direct_url_when_given(monkeypatch):
    from conduit_common.events.feed import EventFeedResource
    from conduit_common.events.outbox import Outbox, outbox_tables

    outbox = Outbox(outbox_tables(sqlalchemy.MetaData(schema="auth")))
    pooled = sqlalchemy.create_engine("postgresql+psycopg2://u:p@pooler:5432/conduit")
    monkeypatch.delenv("DIRECT_DATABASE_URL", raising=False)
    assert EventFeedResource(outbox, pooled)._engine.url.host == "pooler"
    monkeypatch.setenv("DIRECT_DATABASE_URL",
                       "postgresql+psycopg2://u:p@conduit-db-rw:5432/conduit")
    assert EventFeedResource(outbox, pooled)._engine.url.host == "conduit-db-rw"

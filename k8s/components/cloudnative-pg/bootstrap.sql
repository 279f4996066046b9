-- db/bootstrap.sql without psql: CloudNativePG runs this once, as the superuser, in
-- the application database right after initdb (postInitApplicationSQLRefs).
-- Same outcome as db/bootstrap.sql (tests/backup/test_cnpg_bootstrap.py compares
-- the catalogs): one login role and one schema per service, nobody else gets
-- CONNECT. The roles' passwords are not here: `managed.roles` sets them from the
-- conduit-db-<service> Secrets and keeps them in sync.
DO $bootstrap$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['conduit_auth', 'conduit_profiles', 'conduit_articles'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN', r);
        END IF;
    END LOOP;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO conduit_auth, conduit_profiles, '
                   'conduit_articles', current_database());
    REVOKE ALL ON SCHEMA public FROM PUBLIC;
    CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION conduit_auth;
    CREATE SCHEMA IF NOT EXISTS profiles AUTHORIZATION conduit_profiles;
    CREATE SCHEMA IF NOT EXISTS articles AUTHORIZATION conduit_articles;
    EXECUTE format('ALTER ROLE conduit_auth IN DATABASE %I SET search_path = auth',
                   current_database());
    EXECUTE format('ALTER ROLE conduit_profiles IN DATABASE %I SET search_path = profiles',
                   current_database());
    EXECUTE format('ALTER ROLE conduit_articles IN DATABASE %I SET search_path = articles',
                   current_database());
END
$bootstrap$;

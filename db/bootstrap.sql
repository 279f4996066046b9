-- Conduit database bootstrap: per service a schema and two login roles.
--
--   conduit_<svc>_owner  owns schema <svc> and everything in it; only migrations use it
--   conduit_<svc>        the runtime role of the API and its projector: USAGE on the
--                        schema, SELECT/INSERT/UPDATE/DELETE on its tables, its sequences
--                        and functions; no CREATE, ALTER, DROP or TRUNCATE, no other schema;
--                        alembic_version read-only
--
-- Run by db/bootstrap.sh (make run, make restore, the test harness), by the postgres
-- image's /docker-entrypoint-initdb.d (compose, k8s). Idempotent: safe to run again,
-- and run on a database made before the owner/runtime split (the service role owned
-- its schema) it hands the schema and its objects to the owner role.
-- psql variables: dbname, and <svc>_password, <svc>_owner_password for each service.
-- k8s/components/cloudnative-pg/bootstrap.sql is the DO block below without psql
-- (tests/backup/test_cnpg_bootstrap.py proves the same catalog).
\set ON_ERROR_STOP on

SELECT format('CREATE DATABASE %I', :'dbname')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec

\connect :"dbname"

DO $bootstrap$
DECLARE
    service text;
    runtime text;
    owner text;
    r text;
BEGIN
    -- The maintenance databases: superusers only (and whoever a platform grants
    -- CONNECT explicitly, as CloudNativePG does for its pooler).
    REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
    REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
    -- This database: CONNECT for the service roles below, nothing for PUBLIC (no
    -- TEMPORARY either), and nobody creates anything in public.
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    REVOKE ALL ON SCHEMA public FROM PUBLIC;
    FOREACH service IN ARRAY ARRAY['auth', 'profiles', 'articles'] LOOP
        runtime := 'conduit_' || service;
        owner := runtime || '_owner';
        FOREACH r IN ARRAY ARRAY[owner, runtime] LOOP
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            END IF;
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), r);
            -- Unqualified names resolve to the service's own schema.
            EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = %I',
                           r, current_database(), service);
        END LOOP;
        EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', service, owner);
        -- Before the split the runtime role owned the schema and its tables.
        IF EXISTS (SELECT FROM pg_shdepend d JOIN pg_database db ON db.oid = d.dbid
                   WHERE db.datname = current_database() AND d.deptype = 'o'
                   AND d.refobjid = runtime::regrole) THEN
            EXECUTE format('REASSIGN OWNED BY %I TO %I', runtime, owner);
        END IF;
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', service, owner);
        -- The runtime role: data, never structure. What exists now, and through the
        -- default privileges whatever later migrations (run as the owner) create.
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', service, runtime);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                       service, runtime);
        EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I',
                       service, runtime);
        EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO %I', service, runtime);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I '
                       'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                       owner, service, runtime);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I '
                       'GRANT USAGE, SELECT ON SEQUENCES TO %I', owner, service, runtime);
        EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I '
                       'GRANT EXECUTE ON FUNCTIONS TO %I', owner, service, runtime);
        -- Alembic's version table: the runtime role may read it, never write it
        -- (migrations revoke the same after every upgrade).
        IF to_regclass(format('%I.alembic_version', service)) IS NOT NULL THEN
            EXECUTE format('REVOKE ALL ON TABLE %I.alembic_version FROM %I', service, runtime);
            EXECUTE format('GRANT SELECT ON TABLE %I.alembic_version TO %I', service, runtime);
        END IF;
    END LOOP;
END
$bootstrap$;

ALTER ROLE conduit_auth_owner PASSWORD :'auth_owner_password';
ALTER ROLE conduit_auth PASSWORD :'auth_password';
ALTER ROLE conduit_profiles_owner PASSWORD :'profiles_owner_password';
ALTER ROLE conduit_profiles PASSWORD :'profiles_password';
ALTER ROLE conduit_articles_owner PASSWORD :'articles_owner_password';
ALTER ROLE conduit_articles PASSWORD :'articles_password';

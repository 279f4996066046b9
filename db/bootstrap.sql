-- Conduit database bootstrap: one login role and one schema per service.
--
-- Run by db/bootstrap.sh (make run, the test harness), by the postgres image's
-- /docker-entrypoint-initdb.d (compose, k8s). Idempotent: safe to run again.
-- psql variables: dbname, auth_password, profiles_password, articles_password.
\set ON_ERROR_STOP on

SELECT format('CREATE DATABASE %I', :'dbname')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec

\connect :"dbname"

-- Each role owns exactly one schema. Nobody else gets CONNECT or any grant, so a
-- service cannot read another service's tables even by mistake.
SELECT format('CREATE ROLE %I LOGIN', r)
FROM unnest(ARRAY['conduit_auth', 'conduit_profiles', 'conduit_articles']) AS r
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE conduit_auth PASSWORD :'auth_password';
ALTER ROLE conduit_profiles PASSWORD :'profiles_password';
ALTER ROLE conduit_articles PASSWORD :'articles_password';

SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'dbname') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO conduit_auth, conduit_profiles, conduit_articles',
              :'dbname') \gexec
REVOKE ALL ON SCHEMA public FROM PUBLIC;

CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION conduit_auth;
CREATE SCHEMA IF NOT EXISTS profiles AUTHORIZATION conduit_profiles;
CREATE SCHEMA IF NOT EXISTS articles AUTHORIZATION conduit_articles;

-- Unqualified names resolve to the service's own schema.
SELECT format('ALTER ROLE conduit_auth IN DATABASE %I SET search_path = auth', :'dbname') \gexec
SELECT format('ALTER ROLE conduit_profiles IN DATABASE %I SET search_path = profiles',
              :'dbname') \gexec
SELECT format('ALTER ROLE conduit_articles IN DATABASE %I SET search_path = articles',
              :'dbname') \gexec

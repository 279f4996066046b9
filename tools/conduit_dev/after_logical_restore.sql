-- Run after a logical restore (pg_dump/pg_restore) into a cluster other than the one
-- dumped: `make restore` does, and docs/operations.md for Kubernetes.
-- Event positions are transaction ids (xid8) of ONE physical cluster; another
-- cluster's new transactions may have smaller ids, so consumers would wait for ever
-- behind their restored positions, and a restored pruning horizon would send them a
-- 410 in a loop. Forget the event history instead: each projection, having no
-- position, empties its copy and reloads it from its owner's snapshot on start.
DO $reset$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT table_schema, table_name FROM information_schema.tables
             WHERE table_schema IN ('auth', 'profiles', 'articles')
               AND table_name IN ('outbox', 'outbox_consumers', 'outbox_horizon',
                                  'projection_positions')
    LOOP
        EXECUTE format('DELETE FROM %I.%I', t.table_schema, t.table_name);
    END LOOP;
END
$reset$;

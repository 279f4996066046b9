-- Run after a logical restore (pg_dump/pg_restore) into a cluster other than the one
-- dumped: `make restore` does, and docs/operations.md for Kubernetes.
-- Event positions are commit sequence numbers (outbox.seq), which a dump of ONE
-- snapshot carries consistently with the consumers' positions. A restore from any
-- other source (schemas dumped apart, a hand-made copy) could leave a consumer ahead of
-- its owner's restored sequence, and it would then skip the owner's next events. So
-- the event history is forgotten on every restore: each projection, having no
-- position, empties its copy and reloads it from its owner's snapshot on start. That
-- costs a rebuild; it never costs a lost event.
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

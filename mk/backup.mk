# Backups of the local stack's database (make run's private cluster, or DATABASE_URL,
# e.g. compose's postgres as a superuser URL). tools/conduit_dev/backup.py does it all.
#   make backup [FILE=...]       one consistent pg_dump (custom format) + FILE.manifest.json
#                                (default .run/backups/conduit-<UTC time>.dump)
#   make restore FILE=...        into the stopped stack's database: db/ bootstrap, pg_restore,
#                                checked against the manifest; projections rebuild on start
#   make basebackup              a base backup for point-in-time recovery (needs a stack
#                                started with CONDUIT_WAL_ARCHIVE=1 make run)
#   make pitr TARGET_TIME=...    the private cluster as it was at that time (ISO 8601 with
#                                a zone), from the newest base backup before it + the archive
#   make test-backup             the restore drill and the PITR test on real clusters

TEST_TARGETS += test-backup

.PHONY: backup restore basebackup pitr test-backup

backup: install ## pg_dump of the stack's database + manifest (FILE=..., optional)
	$(CONDUIT_DEV_BACKUP) backup $(if $(FILE),--file $(FILE))

restore: install ## restore FILE=... (made by make backup) into the stopped stack's database
	@test -n "$(FILE)" || { echo "usage: make restore FILE=.run/backups/<name>.dump" >&2; exit 1; }
	$(CONDUIT_DEV_BACKUP) restore $(FILE)

basebackup: install ## base backup of make run's cluster (run with CONDUIT_WAL_ARCHIVE=1)
	$(CONDUIT_DEV_BACKUP) basebackup

pitr: install ## recover make run's stopped cluster to TARGET_TIME=<ISO 8601 with zone>
	@test -n "$(TARGET_TIME)" || { echo "usage: make pitr TARGET_TIME=2026-01-02T03:04:05+00:00" >&2; exit 1; }
	$(CONDUIT_DEV_BACKUP) pitr --target-time $(TARGET_TIME)

test-backup: install $(NODE_TOOLS) ## the restore drill and point-in-time recovery on real Postgres clusters
	$(PYTEST) tests/backup

CONDUIT_DEV_BACKUP := PYTHONPATH=$(CURDIR)/tools $(BIN)/python -m conduit_dev.backup

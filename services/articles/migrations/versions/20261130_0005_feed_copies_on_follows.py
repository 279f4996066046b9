"""each follows row carries a copy of the followee's author count row (the feed's reads)

The feed's total and cutoff need every followee's article count and newest time. They
were one count-row lookup per followee; with the copies they are one range of the
viewer's follows rows (models.FOLLOWS). Triggers keep the copies, so that every writer
keeps them: the service, the projector, the bench's bulk loader, and the previous
release's pods still running while this one rolls out (they know nothing of copies).

- A changed author count row is copied onto each follows row of that author. The
  trigger runs in the writer's statement, while it holds the row's lock; in READ
  COMMITTED its UPDATE takes a new snapshot, so it sees every follows row committed
  before the writer got the lock.
- A new follows row takes its values from the count row, locked FOR SHARE: a writer
  holding it is waited for, and the newest values are read.

projections.py says why that leaves no copy stale, and how the projector orders its
locks so that it cannot deadlock with an article write.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "articles"
COPY_TO_FOLLOWS = f"{SCHEMA}.copy_author_count_to_follows"
FILL_FROM_COUNT = f"{SCHEMA}.fill_follow_from_author_count"
# (trigger name, event, condition) on article_counts: an author row that is new with
# something to copy, changed in what the copies hold, or gone. Other kinds never fire.
COUNT_TRIGGERS = (
    ("author_count_inserted", "INSERT",
     "NEW.kind = 'author' AND (NEW.count <> 0 OR NEW.latest_at IS NOT NULL)"),
    ("author_count_changed", "UPDATE OF count, latest_at",
     "NEW.kind = 'author' AND (OLD.count, OLD.latest_at)"
     " IS DISTINCT FROM (NEW.count, NEW.latest_at)"),
    ("author_count_deleted", "DELETE", "OLD.kind = 'author'"),
)
FOLLOW_TRIGGER = "follow_filled_from_author_count"


def upgrade() -> None:
    op.add_column("follows", sa.Column("followee_articles", sa.BigInteger(), nullable=False,
                                       server_default=sa.text("0")), schema=SCHEMA)
    op.add_column("follows", sa.Column("followee_latest_at", sa.DateTime(timezone=True)),
                  schema=SCHEMA)
    op.create_index("ix_follows_followee_id", "follows", ["followee_id"], schema=SCHEMA)
    op.execute(f"""
        CREATE FUNCTION {COPY_TO_FOLLOWS}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                UPDATE {SCHEMA}.follows SET followee_articles = 0, followee_latest_at = NULL
                 WHERE followee_id = OLD.key;
            ELSE
                UPDATE {SCHEMA}.follows
                   SET followee_articles = NEW.count, followee_latest_at = NEW.latest_at
                 WHERE followee_id = NEW.key;
            END IF;
            RETURN NULL;
        END $$""")
    for name, event, condition in COUNT_TRIGGERS:
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {SCHEMA}.article_counts "
                   f"FOR EACH ROW WHEN ({condition}) EXECUTE FUNCTION {COPY_TO_FOLLOWS}()")
    op.execute(f"""
        CREATE FUNCTION {FILL_FROM_COUNT}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT c.count, c.latest_at INTO NEW.followee_articles, NEW.followee_latest_at
              FROM {SCHEMA}.article_counts c
             WHERE c.kind = 'author' AND c.key = NEW.followee_id
               FOR SHARE;
            NEW.followee_articles := coalesce(NEW.followee_articles, 0);
            RETURN NEW;
        END $$""")
    op.execute(f"CREATE TRIGGER {FOLLOW_TRIGGER} BEFORE INSERT ON {SCHEMA}.follows "
               f"FOR EACH ROW EXECUTE FUNCTION {FILL_FROM_COUNT}()")
    op.execute(f"""
        UPDATE {SCHEMA}.follows f
           SET followee_articles = c.count, followee_latest_at = c.latest_at
          FROM {SCHEMA}.article_counts c
         WHERE c.kind = 'author' AND c.key = f.followee_id""")


def downgrade() -> None:
    op.execute(f"DROP TRIGGER {FOLLOW_TRIGGER} ON {SCHEMA}.follows")
    op.execute(f"DROP FUNCTION {FILL_FROM_COUNT}()")
    for name, _, _ in COUNT_TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {SCHEMA}.article_counts")
    op.execute(f"DROP FUNCTION {COPY_TO_FOLLOWS}()")
    op.drop_index("ix_follows_followee_id", "follows", schema=SCHEMA)
    op.drop_column("follows", "followee_latest_at", schema=SCHEMA)
    op.drop_column("follows", "followee_articles", schema=SCHEMA)

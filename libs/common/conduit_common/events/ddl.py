"""DDL of the event tables, for the services' Alembic migrations.

Migrations call these instead of spelling the tables out in three places. They are
frozen once released: a change to the tables is a new function (`..._v2`) and a new
migration, never an edit here.
"""
import sqlalchemy as sa
from alembic import op

from conduit_common.events.outbox import XID8


def _position_columns() -> list[sa.Column]:
    return [sa.Column("xid", sa.BigInteger(), nullable=False),
            sa.Column("id", sa.BigInteger(), nullable=False)]


def create_outbox_v1(schema: str) -> None:
    """The owner's outbox, consumers' acknowledgements, the pruning horizon, NOTIFY."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("xid", XID8(), nullable=False,
                  server_default=sa.text("pg_current_xact_id()")),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("data", sa.dialects.postgresql.JSONB(), nullable=False),
        # The time of the insert, not of the transaction's start: lag is measured from it.
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        schema=schema,
    )
    op.create_index("ix_outbox_xid_id", "outbox", ["xid", "id"], schema=schema)
    op.create_table(
        "outbox_consumers",
        sa.Column("name", sa.Text(), nullable=False), *_position_columns(),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_outbox_consumers"),
        schema=schema,
    )
    op.create_table(
        "outbox_horizon",
        sa.Column("name", sa.Text(), nullable=False), *_position_columns(),
        sa.PrimaryKeyConstraint("name", name="pk_outbox_horizon"),
        schema=schema,
    )
    # One NOTIFY per writing transaction (Postgres folds duplicates), sent at commit:
    # it wakes the long-polling feed requests instead of them polling the table.
    op.execute(f"""
        CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{schema}_outbox', '');
            RETURN NULL;
        END $$""")
    op.execute(f"CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()")


def drop_outbox_v1(schema: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
    for table in ("outbox_horizon", "outbox_consumers", "outbox"):
        op.drop_table(table, schema=schema)


def create_projection_positions_v1(schema: str) -> None:
    """A consumer's position per source, written in the same transaction as its rows."""
    op.create_table(
        "projection_positions",
        sa.Column("source", sa.Text(), nullable=False), *_position_columns(),
        sa.Column("caught_up", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.PrimaryKeyConstraint("source", name="pk_projection_positions"),
        schema=schema,
    )


def drop_projection_positions_v1(schema: str) -> None:
    op.drop_table("projection_positions", schema=schema)

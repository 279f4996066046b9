"""DDL of the event tables, for the services' Alembic migrations.

Migrations call these instead of spelling the tables out in three places. They are
frozen once released: a change to the tables is a new function (`..._v2`) and a new
migration, never an edit here.
"""
import sqlalchemy as sa
from alembic import op

from conduit_common.events.outbox import XID8, commit_order_sql


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


def create_commit_order_v2(schema: str) -> None:
    """Number an owner's events at commit, in commit order (see outbox.py).

    Replaces the transaction-id positions of v1: `seq` is filled by a deferred
    trigger (outbox.commit_order_sql) that holds an advisory lock from numbering
    until the commit is visible. Events already in the table keep
    their old feed order. Consumers' acknowledgements and the pruning horizon were
    in v1 positions, which mean nothing now: they are cleared, and each consumer
    rebuilds its projection from a snapshot once (create_projection_positions_v2).
    """
    op.add_column("outbox", sa.Column("seq", sa.BigInteger(), nullable=True), schema=schema)
    op.add_column("outbox", sa.Column("committed_at", sa.DateTime(timezone=True),
                                      nullable=True), schema=schema)
    # The sequence itself comes with the trigger, below; numbering the old events
    # needs none.
    op.execute(f"""
        UPDATE {schema}.outbox o SET seq = n.seq
        FROM (SELECT id, row_number() OVER (ORDER BY xid, id) AS seq FROM {schema}.outbox) n
        WHERE o.id = n.id""")
    op.create_index("ix_outbox_seq", "outbox", ["seq"], unique=True, schema=schema)
    op.drop_index("ix_outbox_xid_id", table_name="outbox", schema=schema)
    op.drop_column("outbox", "xid", schema=schema)
    for table in ("outbox_consumers", "outbox_horizon"):
        op.execute(f"DELETE FROM {schema}.{table}")
        op.drop_column(table, "xid", schema=schema)
        op.alter_column(table, "id", new_column_name="seq", schema=schema)
    for statement in commit_order_sql(schema):
        op.execute(statement)
    op.execute(f"SELECT setval('{schema}.outbox_seq', "
               f"(SELECT coalesce(max(seq), 0) + 1 FROM {schema}.outbox), false)")


def drop_commit_order_v2(schema: str) -> None:
    """Back to v1's transaction-id positions (consumers rebuild again)."""
    op.execute(f"DROP TRIGGER IF EXISTS outbox_number ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_number()")
    op.execute(f"DROP SEQUENCE IF EXISTS {schema}.outbox_seq")
    op.add_column("outbox", sa.Column("xid", XID8(), nullable=False,
                                      server_default=sa.text("pg_current_xact_id()")),
                  schema=schema)
    op.create_index("ix_outbox_xid_id", "outbox", ["xid", "id"], schema=schema)
    op.drop_index("ix_outbox_seq", table_name="outbox", schema=schema)
    op.drop_column("outbox", "seq", schema=schema)
    op.drop_column("outbox", "committed_at", schema=schema)
    for table in ("outbox_consumers", "outbox_horizon"):
        op.execute(f"DELETE FROM {schema}.{table}")
        op.alter_column(table, "seq", new_column_name="id", schema=schema)
        op.add_column(table, sa.Column("xid", sa.BigInteger(), nullable=False), schema=schema)


def create_projection_positions_v2(schema: str) -> None:
    """A consumer's position is now one commit sequence number per source.

    v1 positions were owner transaction ids: they cannot be translated, so they are
    forgotten, and the projector rebuilds each projection from its owner's snapshot
    on its next start (projector.Projector.rebuild), then follows the new feed.
    """
    op.execute(f"DELETE FROM {schema}.projection_positions")
    op.drop_column("projection_positions", "xid", schema=schema)
    op.alter_column("projection_positions", "id", new_column_name="seq", schema=schema)


def drop_projection_positions_v2(schema: str) -> None:
    op.execute(f"DELETE FROM {schema}.projection_positions")
    op.alter_column("projection_positions", "seq", new_column_name="id", schema=schema)
    op.add_column("projection_positions", sa.Column("xid", sa.BigInteger(), nullable=False),
                  schema=schema)


def create_users_table_v1(schema: str) -> None:
    """The consumers' copy of auth's users (`users.users_table`), as a migration makes it."""
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("bio", sa.Text()),
        sa.Column("image", sa.Text()),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        schema=schema,
    )
    op.create_index("ix_users_lower_username", "users", [sa.text("lower(username)")],
                    schema=schema)

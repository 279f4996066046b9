"""A table that is slow to create, so concurrent upgrades overlap."""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SELECT pg_sleep(0.5)")
    op.create_table("sample", sa.Column("id", sa.Integer, primary_key=True), schema="auth")


def downgrade():
    op.drop_table("sample", schema="auth")

"""Alembic environment of the auth schema; the shared helper does the work."""
from alembic import context

from conduit_auth.models import metadata
from conduit_common.migrations import run

run(context, metadata, schema="auth")

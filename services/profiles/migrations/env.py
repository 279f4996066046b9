"""Alembic environment of the profiles schema; the shared helper does the work."""
from alembic import context

from conduit_common.migrations import run
from conduit_profiles.models import metadata

run(context, metadata, schema="profiles")

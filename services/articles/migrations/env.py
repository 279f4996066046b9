"""Alembic environment of the articles schema; the shared helper does the work."""
from alembic import context

from conduit_articles.models import metadata
from conduit_common.migrations import run

run(context, metadata, schema="articles")

"""The profiles service's app factory; nothing is built at import time."""
import falcon
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.db import service_engine
from conduit_common.events.feed import EventFeedResource
from conduit_common.events.outbox import outbox_metrics, read_your_writes
from conduit_common.events.projector import PositionStore
from conduit_common.revocation import READ_MODEL_TTL_SECONDS, TokenVersions, version_column

from conduit_profiles import events
from conduit_profiles.config import ProfilesSettings
from conduit_profiles.models import POSITIONS, USERS
from conduit_profiles.projector import PROJECTIONS
from conduit_profiles.resources import FollowSnapshotResource, ProfileResource

SERVICE = "profiles"


def create_app(settings: ProfilesSettings | None = None, *,
               engine: sqlalchemy.Engine | None = None) -> falcon.App:
    """Build the WSGI app; tests pass their own engine and settings."""
    settings = settings or ProfilesSettings.from_env()
    engine = engine or service_engine(settings, SERVICE)
    positions = PositionStore(POSITIONS)
    app = create_service_app(
        SERVICE, settings, engine,
        after_commit=read_your_writes(events.outbox, engine, settings.consistency_wait_seconds),
        ready=lambda connection: positions.all_caught_up(connection, PROJECTIONS),
        token_versions=TokenVersions(version_column(USERS), ttl=READ_MODEL_TTL_SECONDS),
        scrape_metrics=outbox_metrics(events.outbox, engine))
    profile = ProfileResource()
    app.add_route("/api/profiles/{username}", profile)
    app.add_route("/api/profiles/{username}/follow", profile, suffix="follow")
    app.add_route("/internal/events", EventFeedResource(events.outbox, engine))
    app.add_route("/internal/follows/snapshot", FollowSnapshotResource())
    return app

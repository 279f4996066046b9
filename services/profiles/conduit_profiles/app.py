"""The profiles service's app factory; nothing is built at import time."""
import falcon
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.db import create_db_engine

from conduit_profiles.clients import AuthClient
from conduit_profiles.config import ProfilesSettings
from conduit_profiles.resources import (InternalFollowingResource, InternalProfilesResource,
                                        ProfileResource)

SERVICE = "profiles"


def create_app(settings: ProfilesSettings | None = None, *,
               engine: sqlalchemy.Engine | None = None,
               auth_client: AuthClient | None = None) -> falcon.App:
    """Build the WSGI app; tests pass their own engine and a fake auth client."""
    settings = settings or ProfilesSettings.from_env()
    engine = engine or create_db_engine(settings.database_url, settings.db_pool_size,
                                        application_name=SERVICE)
    users = auth_client or AuthClient.from_settings(settings)
    app = create_service_app(SERVICE, settings, engine)
    profile = ProfileResource(users)
    app.add_route("/api/profiles/{username}", profile)
    app.add_route("/api/profiles/{username}/follow", profile, suffix="follow")
    app.add_route("/internal/profiles", InternalProfilesResource(users))
    app.add_route("/internal/following", InternalFollowingResource())
    return app

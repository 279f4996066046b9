"""The auth service's app factory: everything is built here, nothing at import."""
import falcon
import sqlalchemy

from conduit_auth.config import AuthSettings
from conduit_auth.passwords import Passwords
from conduit_auth import events
from conduit_auth.repository import UserRepository
from conduit_auth.resources import (CurrentUserResource, LogoutResource, UserSnapshotResource,
                                    UsersResource)
from conduit_auth.services import AccountService
from conduit_common.app import create_service_app
from conduit_common.db import service_engine
from conduit_common.events.feed import EventFeedResource
from conduit_common.events.outbox import outbox_metrics, read_your_writes
from conduit_common.revocation import TokenVersions
from conduit_common.tokens import TokenCodec

SERVICE = "auth"


def _user_row(session, user_id: int):
    """The user's row for the token check; GET /user answers from the same row
    (req.context.token_record), so the request costs one query."""
    return UserRepository(session).row(user_id)


def create_app(settings: AuthSettings | None = None, *,
               engine: sqlalchemy.Engine | None = None,
               passwords: Passwords | None = None,
               codec: TokenCodec | None = None) -> falcon.App:
    settings = settings or AuthSettings.from_env()
    engine = engine or service_engine(settings, SERVICE)
    # auth is the one service that signs user tokens.
    codec = codec or TokenCodec(settings.jwt_public_keys, settings.jwt_private_key,
                                settings.jwt_ttl_seconds)
    passwords = passwords or Passwords(settings.argon2_time_cost, settings.argon2_memory_cost)
    service = AccountService(passwords, codec)

    app = create_service_app(
        SERVICE, settings, engine, codec,
        after_commit=read_your_writes(events.outbox, engine, settings.consistency_wait_seconds),
        # auth owns the version: every check asks the table, so revocation is immediate.
        token_versions=TokenVersions(_user_row, ttl=0),
        scrape_metrics=outbox_metrics(events.outbox, engine))
    users = UsersResource(service)
    app.add_route("/api/users", users)
    app.add_route("/api/users/login", users, suffix="login")
    app.add_route("/api/user", CurrentUserResource(service))
    app.add_route("/api/user/logout", LogoutResource(service))
    app.add_route("/internal/events", EventFeedResource(events.outbox, engine))
    app.add_route("/internal/users/snapshot", UserSnapshotResource(service))
    return app

"""The Falcon app every service starts from: media, errors, middleware, health."""
from collections.abc import Callable

import falcon
import sqlalchemy

from conduit_common.auth import AuthMiddleware
from conduit_common.db import SessionManager
from conduit_common.errors import install_error_handlers
from conduit_common.health import HealthResource, ReadinessResource
from conduit_common.keys import INTERNAL_CALLERS
from conduit_common.limits import BodyLimitMiddleware
from conduit_common.logs import RequestIdMiddleware, SecurityHeadersMiddleware, configure_logging
from conduit_common.media import install_media_handlers
from conduit_common.metrics import MetricsMiddleware, MetricsResource, instrument_pool
from conduit_common.ports import PortSplitMiddleware
from conduit_common.revocation import TokenVersions
from conduit_common.service_auth import InternalAuthMiddleware, ServiceTokenVerifier
from conduit_common.settings import CommonSettings
from conduit_common.text import NulGuardMiddleware
from conduit_common.tokens import TokenCodec
from conduit_common.tracing import configure_tracing


def create_service_app(service: str, settings: CommonSettings, engine: sqlalchemy.Engine,
                       codec: TokenCodec | None = None, *,
                       after_commit: Callable[[dict], None] | None = None,
                       ready: Callable[[sqlalchemy.Connection], bool] | None = None,
                       token_versions: TokenVersions | None = None,
                       scrape_metrics: Callable[[], str] | None = None) -> falcon.App:
    """A configured app; the service adds its routes to it.

    `after_commit` runs after each committed write (owners: read-your-writes);
    `ready` is an extra readiness condition (consumers: projections caught up);
    `token_versions` refuses revoked tokens (see revocation.py); `scrape_metrics`
    adds samples computed at scrape time to /metrics (owners: the outbox).
    Without a `codec` the app verifies user tokens and cannot issue any (only auth
    passes one that holds the signing key).
    """
    configure_logging(service, settings.log_level)
    codec = codec or TokenCodec(settings.jwt_public_keys)
    instrument_pool(engine, service)
    # Before the app is made: with OTEL_EXPORTER_OTLP_ENDPOINT set, falcon.App becomes
    # the instrumented one (a server span per request); unset, nothing changes.
    configure_tracing(service, engines=[engine])
    app = falcon.App(middleware=[
        RequestIdMiddleware(settings.access_log),
        SecurityHeadersMiddleware(),
        PortSplitMiddleware(settings.internal_port),
        # Right after the port split: an /internal/... call without a trusted caller's
        # service token is a 401 before anything else looks at it.
        InternalAuthMiddleware(ServiceTokenVerifier(
            service, settings.service_public_keys.owned_by(INTERNAL_CALLERS.get(service, ())))),
        MetricsMiddleware(service),
        BodyLimitMiddleware(settings.max_body_bytes),
        NulGuardMiddleware(),
        AuthMiddleware(codec, token_versions),
        SessionManager(engine, after_commit),
    ])
    # CORS is the gateway's job (one place), so the services do not answer preflights.
    app.req_options.strip_url_path_trailing_slash = True
    install_media_handlers(app)
    install_error_handlers(app)
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadinessResource(engine, ready))
    app.add_route("/metrics", MetricsResource(scrape_metrics))
    return app

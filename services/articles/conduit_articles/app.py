"""The app factory: settings, engine, clients and routes, built per call (per worker)."""
from collections.abc import Callable

import falcon
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.db import create_db_engine
from conduit_common.http import InternalClient
from conduit_common.tokens import TokenCodec

from conduit_articles import rules
from conduit_articles.clients import AuthClient, ProfilesClient
from conduit_articles.config import ArticlesSettings
from conduit_articles.repository import ArticleRepository, CommentRepository
from conduit_articles.resources import add_routes
from conduit_articles.services import ArticleService, CommentService

CONNECT_TIMEOUT_SECONDS = 0.5


class Services:
    """Builds the service objects of one request around its database session."""

    def __init__(self, auth, profiles, slug_suffix: Callable[[], str]):
        self._auth = auth
        self._profiles = profiles
        self._slug_suffix = slug_suffix

    def articles(self, req) -> ArticleService:
        return ArticleService(ArticleRepository(req.context.session), self._auth,
                              self._profiles, self._slug_suffix)

    def comments(self, req) -> CommentService:
        session = req.context.session
        return CommentService(ArticleRepository(session), CommentRepository(session),
                              self._profiles)


def _internal_client(base_url: str, peer: str, settings: ArticlesSettings) -> InternalClient:
    timeout = settings.downstream_timeout_seconds
    return InternalClient(base_url, peer, connect_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout),
                          read_timeout=timeout)


def create_app(settings: ArticlesSettings | None = None, *,
               engine: sqlalchemy.Engine | None = None, auth_client=None, profiles_client=None,
               slug_suffix: Callable[[], str] = rules.random_suffix,
               codec: TokenCodec | None = None) -> falcon.App:
    """The articles app; tests pass fake clients, a test engine or settings."""
    settings = settings or ArticlesSettings.from_env()
    engine = engine or create_db_engine(settings.database_url, settings.db_pool_size,
                                        application_name="articles")
    auth_client = auth_client or AuthClient(
        _internal_client(settings.auth_service_url, "auth", settings))
    profiles_client = profiles_client or ProfilesClient(
        _internal_client(settings.profiles_service_url, "profiles", settings))
    app = create_service_app("articles", settings, engine, codec)
    add_routes(app, Services(auth_client, profiles_client, slug_suffix))
    return app

"""The app factory: settings, engine and routes, built per call (per worker)."""
from collections.abc import Callable

import falcon
import sqlalchemy

from conduit_common.app import create_service_app
from conduit_common.db import service_engine
from conduit_common.events.projector import PositionStore
from conduit_common.revocation import READ_MODEL_TTL_SECONDS, TokenVersions, version_column
from conduit_common.tokens import TokenCodec

from conduit_articles import rules
from conduit_articles.config import ArticlesSettings
from conduit_articles.models import POSITIONS, USERS
from conduit_articles.projections import PROJECTIONS
from conduit_articles.repository import ArticleRepository, CommentRepository
from conduit_articles.resources import add_routes
from conduit_articles.services import ArticleService, CommentService


class Services:
    """Builds the service objects of one request around its database session."""

    def __init__(self, slug_suffix: Callable[[], str]):
        self._slug_suffix = slug_suffix

    def articles(self, req) -> ArticleService:
        return ArticleService(ArticleRepository(req.context.session), self._slug_suffix)

    def comments(self, req) -> CommentService:
        session = req.context.session
        return CommentService(ArticleRepository(session), CommentRepository(session))


def create_app(settings: ArticlesSettings | None = None, *,
               engine: sqlalchemy.Engine | None = None,
               slug_suffix: Callable[[], str] = rules.random_suffix,
               codec: TokenCodec | None = None) -> falcon.App:
    """The articles app; tests pass a test engine, settings or a slug suffix.

    articles only verifies user tokens (public keys); it serves no internal route and
    calls no one, so it holds no key of its own (its projector does: projector.py).
    """
    settings = settings or ArticlesSettings.from_env()
    engine = engine or service_engine(settings, "articles")
    positions = PositionStore(POSITIONS)
    token_versions = TokenVersions(version_column(USERS), ttl=READ_MODEL_TTL_SECONDS)
    app = create_service_app("articles", settings, engine, codec,
                             ready=lambda c: positions.all_caught_up(c, PROJECTIONS),
                             token_versions=token_versions)
    add_routes(app, Services(slug_suffix))
    return app

"""The articles projector (`project` in the image): auth's users and profiles' follows.

Run as `python -m conduit_articles.projector`; see conduit_common.events.runner.
Environment: DATABASE_URL (the articles role), AUTH_SERVICE_URL, PROFILES_SERVICE_URL,
PROJECTOR_PORT, LOG_LEVEL, DOWNSTREAM_TIMEOUT_SECONDS.
"""
import sys

from conduit_common.config import Env
from conduit_common.db import create_db_engine
from conduit_common.events import runner
from conduit_common.events.projector import PositionStore, Projector

from conduit_articles.models import POSITIONS
from conduit_articles.projections import FOLLOWS_PROJECTION, USERS_PROJECTION

SERVICE = "articles"


def build(env: Env | None = None):
    env = env or Env()
    engine = create_db_engine(env.str("DATABASE_URL"), pool_size=3,
                              application_name=f"{SERVICE}-projector")
    positions = PositionStore(POSITIONS)
    users = runner.http_source(env, "AUTH_SERVICE_URL", "auth", consumer=SERVICE,
                               snapshot_path="/internal/users/snapshot")
    follows = runner.http_source(env, "PROFILES_SERVICE_URL", "profiles", consumer=SERVICE,
                                 snapshot_path="/internal/follows/snapshot")
    projectors = [Projector(SERVICE, USERS_PROJECTION, users, engine, positions),
                  Projector(SERVICE, FOLLOWS_PROJECTION, follows, engine, positions)]
    return projectors, positions, engine


if __name__ == "__main__":
    sys.exit(runner.main("conduit_articles.projector", SERVICE, build))

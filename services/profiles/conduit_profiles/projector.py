"""The profiles projector (`project` in the image): auth's users -> profiles.users.

Run as `python -m conduit_profiles.projector`; see conduit_common.events.runner.
Environment: DATABASE_URL (the profiles role), AUTH_SERVICE_URL, PROJECTOR_PORT,
LOG_LEVEL, DOWNSTREAM_TIMEOUT_SECONDS.
"""
import sys

from conduit_common.config import Env
from conduit_common.db import create_db_engine
from conduit_common.events import runner
from conduit_common.events.projector import PositionStore, Projector
from conduit_common.events.users import users_projection

from conduit_profiles.models import USERS, POSITIONS

SERVICE = "profiles"
USERS_PROJECTION = users_projection(USERS)
# What /readyz of the profiles API waits for.
PROJECTIONS = (USERS_PROJECTION.name,)


def build(env: Env | None = None):
    env = env or Env()
    engine = create_db_engine(env.str("DATABASE_URL"), pool_size=2,
                              application_name=f"{SERVICE}-projector")
    positions = PositionStore(POSITIONS)
    users = runner.http_source(env, "AUTH_SERVICE_URL", "auth", consumer=SERVICE,
                               snapshot_path="/internal/users/snapshot")
    return [Projector(SERVICE, USERS_PROJECTION, users, engine, positions)], positions, engine


if __name__ == "__main__":
    sys.exit(runner.main("conduit_profiles.projector", SERVICE, build))

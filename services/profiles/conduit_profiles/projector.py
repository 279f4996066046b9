"""The profiles projector (`project` in the image): auth's users -> profiles.users.

Run as `python -m conduit_profiles.projector`; see conduit_common.events.runner.
Environment: DATABASE_URL (the profiles role), AUTH_SERVICE_URL (auth's internal
port), SERVICE_PRIVATE_KEY (profiles' service key, PEM: it signs the service tokens
auth asks for), PROJECTOR_PORT, LOG_LEVEL, DOWNSTREAM_TIMEOUT_SECONDS.
"""
import sys

from conduit_common.config import Env
from conduit_common.events import runner
from conduit_common.events.runner import USERS_SNAPSHOT_PATH, Subscription
from conduit_common.events.users import users_projection

from conduit_profiles.models import POSITIONS, USERS

SERVICE = "profiles"
USERS_PROJECTION = users_projection(USERS)
# What /readyz of the profiles API waits for.
PROJECTIONS = (USERS_PROJECTION.name,)
SUBSCRIPTIONS = [Subscription(USERS_PROJECTION, "auth", "AUTH_SERVICE_URL", USERS_SNAPSHOT_PATH)]
# One source: one connection applies, one holds the advisory lock (the connection budget
# in tests/deploy counts this number).
POOL_SIZE = 2


def build(env: Env | None = None):
    return runner.build_projectors(SERVICE, env or Env(), POSITIONS, SUBSCRIPTIONS, POOL_SIZE)


if __name__ == "__main__":
    sys.exit(runner.main("conduit_profiles.projector", SERVICE, build))

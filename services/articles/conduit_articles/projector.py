"""The articles projector (`project` in the image): auth's users and profiles' follows.

Run as `python -m conduit_articles.projector`; see conduit_common.events.runner.
Environment: DATABASE_URL (the articles role), AUTH_SERVICE_URL, PROFILES_SERVICE_URL
(the owners' internal ports), SERVICE_PRIVATE_KEY (articles' service key, PEM: it signs
the service tokens the owners ask for), PROJECTOR_PORT, LOG_LEVEL, DOWNSTREAM_TIMEOUT_SECONDS.
"""
import sys

from conduit_common.config import Env
from conduit_common.events import runner
from conduit_common.events.runner import USERS_SNAPSHOT_PATH, Subscription

from conduit_articles.models import POSITIONS
from conduit_articles.projections import FOLLOWS_PROJECTION, USERS_PROJECTION

SERVICE = "articles"
SUBSCRIPTIONS = [
    Subscription(USERS_PROJECTION, "auth", "AUTH_SERVICE_URL", USERS_SNAPSHOT_PATH),
    Subscription(FOLLOWS_PROJECTION, "profiles", "PROFILES_SERVICE_URL",
                 "/internal/follows/snapshot"),
]
# Two sources: one applying connection and one lock connection each, less one shared
# (the connection budget in tests/deploy counts this number).
POOL_SIZE = 3


def build(env: Env | None = None):
    return runner.build_projectors(SERVICE, env or Env(), POSITIONS, SUBSCRIPTIONS, POOL_SIZE)


if __name__ == "__main__":
    sys.exit(runner.main("conduit_articles.projector", SERVICE, build))

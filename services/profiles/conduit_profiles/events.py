"""What profiles tells the other contexts about follows (its outbox events).

  FollowAdded / FollowRemoved: {"follower_id", "followee_id"}
Published only when the follow really changed, so a consumer that applies them in
feed order (the last event per pair wins) holds exactly the owner's follows.
"""
from conduit_common.events.outbox import Outbox

from conduit_profiles.models import OUTBOX

FOLLOW_ADDED = "FollowAdded"
FOLLOW_REMOVED = "FollowRemoved"

outbox = Outbox(OUTBOX)


def follow_pair(follower_id: int, followee_id: int) -> dict:
    return {"follower_id": follower_id, "followee_id": followee_id}

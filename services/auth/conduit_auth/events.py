"""What auth tells the other contexts about users (its outbox events).

Consumers (profiles, articles) keep a read-only copy of every user's public state.
Each event carries that whole state and the user's version, so a consumer keeps
the newest and a replay changes nothing. The contract, for any future consumer:
  UserRegistered / UserChanged: {"id", "username", "bio", "image", "version",
                                  "token_version"}
"""
from conduit_common.events.outbox import Outbox

from conduit_auth.models import OUTBOX, User

USER_REGISTERED = "UserRegistered"
USER_CHANGED = "UserChanged"

outbox = Outbox(OUTBOX)


def user_state(user: User) -> dict:
    return {"id": user.id, "username": user.username, "bio": user.bio, "image": user.image,
            "version": user.version, "token_version": user.token_version}

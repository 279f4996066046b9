"""Thin Falcon resources: parse, call one rule, set resp.media."""
from conduit_common.auth import optional_auth, require_auth
from conduit_common.errors import Unprocessable
from conduit_common.events.feed import snapshot_json, snapshot_page, snapshot_query

from conduit_profiles import events, services
from conduit_profiles.repository import FollowRepository, ProfileRepository
from conduit_profiles.schemas import public_profile


def _viewer_id(req) -> int | None:
    identity = req.context.identity
    return identity.user_id if identity is not None else None


class ProfileResource:
    """/api/profiles/{username} and, with suffix "follow", .../follow."""

    @optional_auth
    def on_get(self, req, resp, username):
        profile = services.get_profile(ProfileRepository(req.context.session), username,
                                       _viewer_id(req))
        resp.media = {"profile": public_profile(profile)}

    @require_auth
    def on_post_follow(self, req, resp, username):
        session = req.context.session
        profile = services.follow(ProfileRepository(session), FollowRepository(session),
                                  username, req.context.identity.user_id)
        resp.media = {"profile": public_profile(profile)}

    @require_auth
    def on_delete_follow(self, req, resp, username):
        session = req.context.session
        profile = services.unfollow(ProfileRepository(session), FollowRepository(session),
                                    username, req.context.identity.user_id)
        resp.media = {"profile": public_profile(profile)}


class FollowSnapshotResource:
    """GET /internal/follows/snapshot?after=<follower>.<followee>&limit=N, for articles."""

    def on_get(self, req, resp):
        cursor, limit = snapshot_query(req)
        follows = FollowRepository(req.context.session)
        try:
            page = snapshot_page(req.context.session, events.outbox,
                                 lambda _: services.follows_snapshot(follows, cursor, limit))
        except ValueError as ex:
            raise Unprocessable.on_field("after", "must be <follower id>.<followee id>") from ex
        resp.media = snapshot_json(page)

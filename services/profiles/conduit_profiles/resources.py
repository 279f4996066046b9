"""Thin Falcon resources: parse, call one rule, set resp.media."""
from conduit_common.auth import optional_auth, require_auth

from conduit_profiles import services
from conduit_profiles.repository import FollowRepository
from conduit_profiles.schemas import (FollowingQuery, ProfilesQuery, internal_profile,
                                      public_profile)


def _viewer_id(req) -> int | None:
    identity = req.context.identity
    return identity.user_id if identity is not None else None


class ProfileResource:
    """/api/profiles/{username} and, with suffix "follow", .../follow."""

    def __init__(self, users):
        self._users = users

    @optional_auth
    def on_get(self, req, resp, username):
        profile = services.get_profile(self._users, FollowRepository(req.context.session),
                                       username, _viewer_id(req))
        resp.media = {"profile": public_profile(profile)}

    @require_auth
    def on_post_follow(self, req, resp, username):
        profile = services.follow(self._users, FollowRepository(req.context.session),
                                  username, req.context.identity.user_id)
        resp.media = {"profile": public_profile(profile)}

    @require_auth
    def on_delete_follow(self, req, resp, username):
        profile = services.unfollow(self._users, FollowRepository(req.context.session),
                                    username, req.context.identity.user_id)
        resp.media = {"profile": public_profile(profile)}


class InternalProfilesResource:
    """/internal/profiles?id=..&id=..&viewer=.. for the articles service."""

    def __init__(self, users):
        self._users = users
        self._query = ProfilesQuery()

    def on_get(self, req, resp):
        query = self._query.load({"id": req.get_param_as_list("id") or [],
                                  "viewer": req.get_param("viewer")})
        profiles = services.profiles_by_ids(self._users, FollowRepository(req.context.session),
                                            query["id"], query["viewer"])
        resp.media = {"profiles": [internal_profile(p) for p in profiles]}


class InternalFollowingResource:
    """/internal/following?follower=.. (the ids the follower follows), for the feed."""

    def __init__(self):
        self._query = FollowingQuery()

    def on_get(self, req, resp):
        query = self._query.load({"follower": req.get_param("follower")})
        ids = services.followee_ids(FollowRepository(req.context.session), query["follower"])
        resp.media = {"ids": ids}

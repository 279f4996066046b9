"""Validation of query strings, and the JSON shapes of profiles."""
from marshmallow import Schema, fields, validate

from conduit_profiles import messages
from conduit_profiles.services import Profile

# ids are bigint identities in auth; anything outside would be a 500 in the database.
BIGINT_MAX = 2**63 - 1
# One batch fits in gunicorn's 4094-byte request line with room to spare.
MAX_IDS_PER_REQUEST = 200


def _user_id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=BIGINT_MAX), **kwargs)


class ProfilesQuery(Schema):
    """?id=1&id=2&viewer=7 of GET /internal/profiles."""

    id = fields.List(_user_id(), load_default=list, validate=validate.Length(
        max=MAX_IDS_PER_REQUEST, error=messages.TOO_MANY_IDS.format(limit=MAX_IDS_PER_REQUEST)))
    viewer = _user_id(load_default=None)


class FollowingQuery(Schema):
    """?follower=7 of GET /internal/following."""

    follower = _user_id(required=True)


def public_profile(profile: Profile) -> dict:
    return {"username": profile.username, "bio": profile.bio, "image": profile.image,
            "following": profile.following}


def internal_profile(profile: Profile) -> dict:
    return {"id": profile.id, **public_profile(profile)}

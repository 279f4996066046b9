"""The JSON shape of a profile."""
from conduit_profiles.repository import Profile


def public_profile(profile: Profile) -> dict:
    return {"username": profile.username, "bio": profile.bio, "image": profile.image,
            "following": profile.following}

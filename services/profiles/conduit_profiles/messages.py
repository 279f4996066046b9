"""Every sentence a client of the profiles service can read."""
PROFILE_NOT_FOUND = "profile not found"
CANNOT_FOLLOW_YOURSELF = "you cannot follow yourself"

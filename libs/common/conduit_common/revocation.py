"""Is a token still current? Its version against the user's token version.

Each service asks its own copy of the users: auth its `users` table, profiles and
articles their read model of auth's users (fed by UserChanged events, which carry
`token_version`). Tokens issued before the version was raised are refused (401).

How a service looks the version up is its own (`RecordLookup`): the read models use
`version_column`, one small query; auth reads the user's whole row (auth/app.py), and
the check hands that row on (`check`), so GET /user answers without a second query.
"""
import time
from collections.abc import Callable

from sqlalchemy import Table, bindparam, select

from conduit_common.tokens import Identity

# More distinct users than this in one TTL window, and the cache starts over.
MAX_CACHED_USERS = 50_000

# (session, user id) -> that user's record (anything with a `token_version`, e.g. a
# row), or None for a user not (yet) known.
RecordLookup = Callable[[object, int], object | None]
# How long profiles and articles trust a version they looked up (see TokenVersions).
READ_MODEL_TTL_SECONDS = 1.0


class TokenVersions:
    """Current token versions by user id, cached per process for `ttl` seconds.

    ttl=0 asks the database on every request (auth: revocation at once). A longer
    ttl trades at most that many seconds of a revoked token's life for one query per
    user per window instead of one per request (profiles, articles: 1 s).
    """

    def __init__(self, lookup: RecordLookup, ttl: float = 0.0,
                 clock: Callable[[], float] = time.monotonic):
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[int, tuple[int, float]] = {}

    def check(self, session, identity: Identity) -> tuple[bool, object | None]:
        """Whether the token is current, and the record the lookup read for it (None
        when the version came from the cache, or the user is not known here)."""
        version, record = self._version(session, identity.user_id)
        # A user this service does not know yet (its read model is behind) cannot have
        # revoked anything since registering: the token's version is the first one.
        return version is None or identity.token_version >= version, record

    def _version(self, session, user_id: int) -> tuple[int | None, object | None]:
        now = self._clock()
        cached = self._cache.get(user_id)
        if cached is not None and cached[1] > now:
            return cached[0], None
        record = self._lookup(session, user_id)
        version = None if record is None else record.token_version
        if version is not None and self._ttl > 0:
            if len(self._cache) >= MAX_CACHED_USERS:
                self._cache.clear()
            self._cache[user_id] = (version, now + self._ttl)
        return version, record


def version_column(table: Table) -> RecordLookup:
    """The `token_version` column of a users table, one row by id."""
    statement = select(table.c.token_version).where(table.c.id == bindparam("id"))
    return lambda session, user_id: session.execute(statement, {"id": user_id}).first()

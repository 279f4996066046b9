"""Load a large data set into a running stack, through each service's own schema and events.

Each owner's rows go into its own schema with its own database role, and every change
a consumer must hear about goes into the owner's outbox in the same transaction, as
the services write them (numbered in feed order under the outbox's commit-order lock,
as the services' commit trigger would).
The projectors then fill their read models the real way, from the feed; this script
waits until they have caught up and reports how long the load and the catch-up took.

    auth      users (COPY; one argon2id hash of seed.PASSWORD computed once, shared by
              every row, so any loaded user can sign in) + one UserRegistered per user
    profiles  follows (COPY; skewed: a few users follow many, a few are followed by
              many; no self-follows, no duplicates) + one FollowAdded per follow
    articles  tags (COPY), article_tags (SQL, skewed tag popularity), articles (SQL,
              generate_series; skewed authors, sorted tag_list), favorites (COPY of the
              pairs into a scratch table, then SQL; favorites_count and
              article_created_at consistent), article_counts (all/tag/author/favoriter,
              and each author's latest_at)

Sizes at --scale 1: 100,000 users, 500,000 follows, 1,000,000 articles, 1,000 tags,
2,000,000 favorites.

    python bench/bulk_load.py --run-dir .run/bench --pgport 5433 --scale 0.01
    python bench/bulk_load.py --auth-url URL --profiles-url URL --articles-url URL
"""
import argparse
import io
import json
import random
import secrets
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conduit_common.events.outbox import commit_order_lock_key  # noqa: E402

PASSWORD = "bench-password-1234"   # seed.PASSWORD: loaded users sign in like seeded ones
BODY = ("Throughput is a property of the whole path: the gateway, every hop between "
        "services, the queries and the serialisation of the answer. ") * 3
# Articles are spread over this many days before the load (the newest stays older than
# anything seeded through the API afterwards or before).
SPAN_DAYS = 3 * 365


@dataclass(frozen=True)
class Sizes:
    users: int = 100_000
    follows: int = 500_000
    articles: int = 1_000_000
    tags: int = 1_000
    favorites: int = 2_000_000

    @classmethod
    def scaled(cls, scale: float) -> "Sizes":
        full = cls()
        users = max(20, round(full.users * scale))
        articles = max(20, round(full.articles * scale))
        return cls(
            users=users,
            # at most a fifth of all possible pairs, so the random draw ends quickly
            follows=min(round(full.follows * scale), users * (users - 1) // 5),
            articles=articles,
            tags=max(20, round(full.tags * min(1.0, scale * 10))),
            favorites=min(round(full.favorites * scale), users * articles // 5),
        )


@dataclass
class Loaded:
    """What the bench needs afterwards: sizes, timings and the interesting users."""

    run_id: str
    sizes: dict
    user_ids: tuple[int, int] = (0, 0)           # first, last loaded user id
    article_ids: tuple[int, int] = (0, 0)
    timings: dict = field(default_factory=dict)  # seconds per step
    # Heavy users: the feed reader (most followees), the most prolific author,
    # the user with most favorites; the most popular tag.
    feed_user: dict = field(default_factory=dict)
    top_author: dict = field(default_factory=dict)
    top_favoriter: dict = field(default_factory=dict)
    top_tag: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


def username(run_id: str, rank: int) -> str:
    """Rank 0 is the heaviest user in every skewed draw (author, followee, favoriter)."""
    return f"b{run_id}u{rank:06d}"


def tag_name(run_id: str, rank: int) -> str:
    """Rank 1 is the most popular tag."""
    return f"t{run_id}-{rank:04d}"


def skewed(rng: random.Random, n: int, power: float) -> int:
    """A rank in [0, n): rank r is drawn with density ~ r^(1/power - 1); power > 1 skews
    towards 0 (2: the first of 100,000 gets ~0.3 % of all draws)."""
    return min(n - 1, int(n * rng.random() ** power))


def password_hash(password: str = PASSWORD) -> str:
    """One argon2id hash with auth's own parameters (computed once, shared by all rows)."""
    try:
        from conduit_auth.config import ARGON2_MEMORY_COST_KIB, ARGON2_TIME_COST
        from conduit_auth.passwords import Passwords
        return Passwords(ARGON2_TIME_COST, ARGON2_MEMORY_COST_KIB).hash(password)
    except ImportError:
        from argon2 import PasswordHasher, Type
        return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1,
                              type=Type.ID).hash(password)


def copy_text(rows) -> io.StringIO:
    """COPY ... (FORMAT text) input; values must not hold tabs, newlines or backslashes."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def copy_rows(cursor, statement: str, rows) -> None:
    """`statement` (COPY ... FROM STDIN) fed with `rows` in COPY's text format."""
    with cursor.copy(statement) as copy:
        copy.write(copy_text(rows).getvalue())


# ---------------------------------------------------------------------------- generation

def follow_pairs(rng: random.Random, users: int, count: int) -> list[tuple[int, int]]:
    """`count` distinct (follower rank, followee rank) pairs, never a self-follow.

    Followers mildly skewed (the heaviest follows a few hundred users at full scale),
    followees strongly (a few users have thousands of followers)."""
    seen: set[int] = set()
    pairs = []
    while len(pairs) < count:
        follower = skewed(rng, users, 1.5)
        followee = skewed(rng, users, 2.0)
        key = follower * users + followee
        if follower == followee or key in seen:
            continue
        seen.add(key)
        pairs.append((follower, followee))
    return pairs


def favorite_pairs(rng: random.Random, users: int, articles: int, count: int
                   ) -> list[tuple[int, int]]:
    """`count` distinct (user rank, article number 1..articles) pairs; users skewed,
    articles uniform."""
    seen: set[int] = set()
    pairs = []
    while len(pairs) < count:
        user = skewed(rng, users, 2.0)
        article = 1 + int(articles * rng.random())
        key = user * (articles + 1) + article
        if key in seen:
            continue
        seen.add(key)
        pairs.append((user, article))
    return pairs


# -------------------------------------------------------------------------------- auth

def next_id(cursor, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return cursor.fetchone()[0]


def bump_identity(cursor, table: str) -> None:
    """After explicit ids: the identity sequence continues after the highest one."""
    cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                   f"(SELECT max(id) FROM {table}))", (table,))


# Events are numbered here, under the outbox's commit-order lock (taken first, held
# until commit), instead of one trigger call per row at commit: see
# conduit_common.events.outbox. The trigger skips rows that arrive numbered.
NUMBERING_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"

USER_EVENT_SQL = """
INSERT INTO auth.outbox (type, data, seq)
SELECT 'UserRegistered', jsonb_build_object(
           'id', id, 'username', username, 'bio', bio, 'image', image,
           'version', version, 'token_version', token_version),
       nextval('auth.outbox_seq')
FROM (SELECT * FROM auth.users WHERE id BETWEEN %s AND %s ORDER BY id) AS u
"""


def load_auth(connection, run_id: str, sizes: Sizes, hashed: str, now: datetime
              ) -> tuple[int, int]:
    """Users with explicit ids (COPY writes identity columns as given) + their events,
    in one transaction. Returns the first and last id."""
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE auth.users IN SHARE ROW EXCLUSIVE MODE")
        first = next_id(cursor, "auth.users")
        created = now - timedelta(days=SPAN_DAYS + 1)
        rows = ((first + rank, username(run_id, rank), f"{username(run_id, rank)}@bench.example",
                 hashed, f"Bio of bulk user {rank}" if rank % 3 == 0 else None, None,
                 created.isoformat(), created.isoformat(), 1, 0)
                for rank in range(sizes.users))
        copy_rows(
            cursor, "COPY auth.users (id, username, email, password_hash, bio, image, created_at, "
            "updated_at, version, token_version) FROM STDIN", rows)
        bump_identity(cursor, "auth.users")
        last = first + sizes.users - 1
        cursor.execute(NUMBERING_LOCK_SQL, (commit_order_lock_key("auth"),))
        cursor.execute(USER_EVENT_SQL, (first, last))
    connection.commit()
    return first, last


# ---------------------------------------------------------------------------- profiles

FOLLOW_EVENT_SQL = """
INSERT INTO profiles.outbox (type, data, seq)
SELECT 'FollowAdded', jsonb_build_object('follower_id', follower_id, 'followee_id', followee_id),
       nextval('profiles.outbox_seq')
FROM (SELECT * FROM profiles.follows WHERE follower_id BETWEEN %s AND %s
      ORDER BY follower_id, followee_id) AS f
"""


def load_profiles(connection, first_user: int, pairs: list[tuple[int, int]],
                  last_user: int, now: datetime) -> None:
    """The loaded users follow only loaded users, so their follows are all new rows."""
    stamp = (now - timedelta(days=1)).isoformat()
    with connection.cursor() as cursor:
        rows = ((first_user + a, first_user + b, stamp) for a, b in pairs)
        copy_rows(cursor, "COPY profiles.follows (follower_id, followee_id, created_at) "
                  "FROM STDIN", rows)
        cursor.execute(NUMBERING_LOCK_SQL, (commit_order_lock_key("profiles"),))
        cursor.execute(FOLLOW_EVENT_SQL, (first_user, last_user))
    connection.commit()


# ---------------------------------------------------------------------------- articles

SCRATCH_FAVORITES = "articles._bulk_favorites"
SCRATCH_TAGS = "articles._bulk_article_tags"


def articles_sql(run_id: str, sizes: Sizes, first_article: int, first_user: int,
                 newest: datetime) -> dict[str, tuple[str, dict]]:
    """The articles statements in order, each (sql, params); `seq` numbers the loaded
    articles 1..N, their id is first_article - 1 + seq and their created_at grows with
    seq: newest - (N - seq) * step."""
    step = SPAN_DAYS * 86400.0 / sizes.articles
    params = {"n": sizes.articles, "base": first_article - 1, "users": sizes.users,
              "first_user": first_user, "tags": sizes.tags, "newest": newest,
              "step": step, "prefix": f"t{run_id}-", "slug": f"bulk-{run_id}-"}
    created = "(%(newest)s::timestamptz - (%(n)s - {seq}) * make_interval(secs => %(step)s))"
    statements = {
        "scratch": (f"""
            CREATE UNLOGGED TABLE {SCRATCH_FAVORITES} (user_id bigint NOT NULL,
                                                       seq int NOT NULL);
            CREATE UNLOGGED TABLE {SCRATCH_TAGS} (seq int NOT NULL, tag_id bigint NOT NULL,
                                                  name text NOT NULL)""", {}),
        # 0-4 tags per article (mean 2); tag rank log-uniform over 1..T (Zipf-like:
        # the first tag is on ~1/ln(T) of the draws).
        "article tags draw": (f"""
            INSERT INTO {SCRATCH_TAGS} (seq, tag_id, name)
            SELECT DISTINCT d.seq, t.id, t.name
            FROM (SELECT g AS seq,
                         least(%(tags)s, floor(exp(random() * ln(%(tags)s + 1)))::int) AS rank
                  FROM generate_series(1, %(n)s) g
                  CROSS JOIN LATERAL generate_series(1, (g * 7) %% 5) k) d
            JOIN articles.tags t ON t.name = %(prefix)s || lpad(d.rank::text, 4, '0')""",
                              params),
        "scratch index": (f"""
            CREATE INDEX ON {SCRATCH_TAGS} (seq);
            ANALYZE {SCRATCH_TAGS}; ANALYZE {SCRATCH_FAVORITES}""", {}),
        # Authors skewed like the other draws (rank 0 the most prolific).
        "articles": (f"""
            INSERT INTO articles.articles (id, slug, title, description, body, author_id,
                                           favorites_count, created_at, updated_at, tag_list)
            OVERRIDING SYSTEM VALUE
            SELECT %(base)s + g, %(slug)s || g, 'Bulk article ' || g,
                   'Article ' || g || ' of the large benchmark set', %(body)s,
                   %(first_user)s + least(%(users)s - 1, floor(%(users)s * random() ^ 2)::int),
                   coalesce(f.n, 0), {created.format(seq='g')}, {created.format(seq='g')},
                   coalesce(t.names, '{{}}')
            FROM generate_series(1, %(n)s) g
            LEFT JOIN (SELECT seq, count(*) AS n FROM {SCRATCH_FAVORITES} GROUP BY seq) f
                   ON f.seq = g
            LEFT JOIN (SELECT seq, array_agg(name ORDER BY name) AS names
                       FROM {SCRATCH_TAGS} GROUP BY seq) t ON t.seq = g""",
                     {**params, "body": BODY}),
        "article_tags": (f"""
            INSERT INTO articles.article_tags (article_id, tag_id, created_at)
            SELECT %(base)s + seq, tag_id, {created.format(seq='seq')}
            FROM {SCRATCH_TAGS}""", params),
        "favorites": (f"""
            INSERT INTO articles.favorites (user_id, article_id, created_at, article_created_at)
            SELECT user_id, %(base)s + seq,
                   least({created.format(seq='seq')} + interval '1 hour', %(newest)s),
                   {created.format(seq='seq')}
            FROM {SCRATCH_FAVORITES}""", params),
        # In key order, as every writer of these rows locks them (the projector locks
        # author rows to land follows; projections.py). A trigger copies each author
        # row onto their followers' follows rows (migration 0005).
        "article_counts": (f"""
            INSERT INTO articles.article_counts AS c (kind, key, count, latest_at)
            SELECT * FROM (
                SELECT 'all' AS kind, 0::bigint AS key, %(n)s::bigint AS count,
                       NULL::timestamptz AS latest_at
                UNION ALL
                SELECT 'tag', tag_id, count(*), NULL FROM {SCRATCH_TAGS} GROUP BY tag_id
                UNION ALL
                SELECT 'author', author_id, count(*), max(created_at) FROM articles.articles
                 WHERE id > %(base)s GROUP BY author_id
                UNION ALL
                SELECT 'favoriter', user_id, count(*), NULL FROM {SCRATCH_FAVORITES}
                 GROUP BY user_id) counted
            ORDER BY kind, key
            ON CONFLICT (kind, key) DO UPDATE SET count = c.count + EXCLUDED.count,
                latest_at = greatest(c.latest_at, EXCLUDED.latest_at)""",
                           params),
        "drop scratch": (f"DROP TABLE {SCRATCH_FAVORITES}; DROP TABLE {SCRATCH_TAGS}", {}),
    }
    return statements


def load_articles(connection, run_id: str, sizes: Sizes, first_user: int,
                  favorites: list[tuple[int, int]], newest: datetime, log=print) -> dict:
    """Everything articles owns, in one transaction; the seconds per step."""
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE articles.articles IN SHARE ROW EXCLUSIVE MODE")
        first_article = next_id(cursor, "articles.articles")
        statements = articles_sql(run_id, sizes, first_article, first_user, newest)
        t0 = time.monotonic()
        cursor.execute(*statements.pop("scratch"))
        copy_rows(cursor, "COPY articles.tags (name) FROM STDIN",
                  ((tag_name(run_id, r),) for r in range(1, sizes.tags + 1)))
        rows = ((first_user + user, seq) for user, seq in favorites)
        copy_rows(cursor, f"COPY {SCRATCH_FAVORITES} (user_id, seq) FROM STDIN", rows)
        timings["tags + favorite pairs (COPY)"] = time.monotonic() - t0
        for name, (sql, params) in statements.items():
            t0 = time.monotonic()
            cursor.execute(sql, params or None)
            timings[name] = time.monotonic() - t0
            log(f"    articles: {name} {timings[name]:.1f} s", flush=True)
        bump_identity(cursor, "articles.articles")
    connection.commit()
    return {"timings": timings, "first_article": first_article}


# The tables each owner role vacuums after loading, and the read models after catch-up.
OWNED_TABLES = {
    "auth": ["auth.users", "auth.outbox"],
    "profiles": ["profiles.follows", "profiles.outbox"],
    "articles": ["articles.articles", "articles.tags", "articles.article_tags",
                 "articles.favorites", "articles.article_counts"],
}
PROJECTION_TABLES = {"profiles": ["profiles.users"],
                     "articles": ["articles.users", "articles.follows"]}
# Seeded through the API, never bulk-loaded.
SEEDED_ONLY_TABLES = {"articles": ["articles.comments"]}


def analyze_everything(urls: dict[str, str], log=print) -> float:
    """VACUUM ANALYZE every table the bench reads, as autovacuum leaves them sooner or
    later. After the API seeding, so that every endpoint of a run is planned from the
    same statistics: autovacuum's first pass otherwise lands in the middle of the run,
    and on 200 articles the plans before and after it differ (the feed's page went
    from index lookups to a hash join and lost a sixth of its throughput)."""
    seconds = 0.0
    for service in urls:
        tables = [*OWNED_TABLES.get(service, []), *PROJECTION_TABLES.get(service, []),
                  *SEEDED_ONLY_TABLES.get(service, [])]
        connection = connect(urls[service])
        try:
            seconds += vacuum(connection, tables, log)
        finally:
            connection.close()
    return seconds


def vacuum(connection, tables: list[str], log=print) -> float:
    """VACUUM ANALYZE (statistics and visibility map, as autovacuum would leave them)."""
    t0 = time.monotonic()
    old = connection.autocommit
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        connection.autocommit = old
    log(f"  vacuum analyze {', '.join(tables)}: {time.monotonic() - t0:.1f} s", flush=True)
    return time.monotonic() - t0


# ---------------------------------------------------------------------------- catch-up

def feed_state(connection, schema: str) -> tuple[int, dict[str, int]]:
    """The owner's newest event and each live consumer's acknowledged position."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(seq), 0) FROM {schema}.outbox")
        head = cursor.fetchone()[0]
        cursor.execute(f"SELECT name, seq FROM {schema}.outbox_consumers "
                       "WHERE acknowledged_at > now() - interval '60 seconds'")
        consumers = dict(cursor.fetchall())
    connection.commit()
    return head, consumers


def behind(connection, schema: str) -> list[str]:
    """Consumers (and how far) that have not yet applied the owner's newest event."""
    head, consumers = feed_state(connection, schema)
    if head == 0:
        return []
    if not consumers:
        return [f"{schema}: no live consumer"]
    return [f"{schema}->{name} at event {pos} of {head}"
            for name, pos in sorted(consumers.items()) if pos < head]


def wait_caught_up(connections: dict, timeout: float, log=print, interval: float = 1.0
                   ) -> float:
    """Block until every live consumer of auth's and profiles' feeds has acknowledged
    the newest event (a consumer acknowledges a position when it asks for what follows,
    after applying it). Returns the seconds waited; raises TimeoutError."""
    t0 = time.monotonic()
    last_report = 0.0
    while True:
        missing = behind(connections["auth"], "auth") + behind(connections["profiles"],
                                                               "profiles")
        if not missing:
            return time.monotonic() - t0
        elapsed = time.monotonic() - t0
        if elapsed > timeout:
            raise TimeoutError(f"projections not caught up after {timeout:.0f} s: "
                               + "; ".join(missing))
        if elapsed - last_report >= 15:
            log(f"  catching up ({elapsed:.0f} s): " + "; ".join(missing), flush=True)
            last_report = elapsed
        time.sleep(interval)


class CatchUpWatch(threading.Thread):
    """Times, per owner, how long after its load committed every consumer had applied
    the owner's newest event (on connections of its own, polling every `interval`)."""

    def __init__(self, urls: dict[str, str], interval: float = 0.5):
        super().__init__(daemon=True)
        self._urls = urls
        self._interval = interval
        self._pending: dict[str, float] = {}
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self.seconds: dict[str, float] = {}

    def expect(self, owner: str) -> None:
        """`owner`'s load has just committed."""
        with self._lock:
            self._pending[owner] = time.monotonic()

    def run(self) -> None:
        connections = {owner: connect(self._urls[owner]) for owner in ("auth", "profiles")}
        try:
            while not self._halt.is_set():
                with self._lock:
                    pending = dict(self._pending)
                for owner, committed in pending.items():
                    if not behind(connections[owner], owner):
                        self.seconds[owner] = time.monotonic() - committed
                        with self._lock:
                            del self._pending[owner]
                self._halt.wait(self._interval)
        finally:
            for connection in connections.values():
                connection.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


# -------------------------------------------------------------------------------- main

def connect(url: str):
    """A plain psycopg connection (not autocommit). ClientCursor binds parameters on the
    client, so the load's scripts may hold several statements and DDL with values."""
    import psycopg
    from conduit_common.db import libpq_url
    return psycopg.connect(libpq_url(url), cursor_factory=psycopg.ClientCursor)


def urls_from_run_dir(run_dir: Path, pgport: int, db_name: str = "conduit") -> dict[str, str]:
    """The schema owners' URLs of a stack the launcher started with this state dir: the
    load resets identity sequences, locks tables and makes scratch tables, which the
    services' DML-only runtime roles may not."""
    from conduit_common.testing.postgres import SERVICES, ConduitDatabase
    passwords = json.loads((run_dir / "db-passwords.json").read_text())
    database = ConduitDatabase(admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{pgport}/"
                               "postgres", name=db_name, passwords=passwords)
    return {service: database.owner_url_for(service) for service in SERVICES}


def bulk_load(urls: dict[str, str], sizes: Sizes, *, seed: int = 20261129,
              run_id: str | None = None, catch_up_timeout: float = 900.0,
              wait: bool = True, log=print) -> Loaded:
    run_id = run_id or secrets.token_hex(2)
    rng = random.Random(seed)
    loaded = Loaded(run_id=run_id, sizes=asdict(sizes))
    connections = {service: connect(url) for service, url in urls.items()}
    watch = CatchUpWatch(urls)
    watch.start()
    try:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        newest = now - timedelta(minutes=1)
        t_start = time.monotonic()

        t0 = time.monotonic()
        hashed = password_hash()
        loaded.timings["argon2 hash (once)"] = time.monotonic() - t0
        t0 = time.monotonic()
        first, last = load_auth(connections["auth"], run_id, sizes, hashed, now)
        watch.expect("auth")
        loaded.user_ids = (first, last)
        loaded.timings["auth: users + UserRegistered events"] = time.monotonic() - t0
        log(f"  auth: {sizes.users} users (ids {first}..{last}) + events "
            f"in {loaded.timings['auth: users + UserRegistered events']:.1f} s", flush=True)

        t0 = time.monotonic()
        follows = follow_pairs(rng, sizes.users, sizes.follows)
        favorites = favorite_pairs(rng, sizes.users, sizes.articles, sizes.favorites)
        loaded.timings["generate follow and favorite pairs"] = time.monotonic() - t0

        t0 = time.monotonic()
        load_profiles(connections["profiles"], first, follows, last, now)
        watch.expect("profiles")
        loaded.timings["profiles: follows + FollowAdded events"] = time.monotonic() - t0
        log(f"  profiles: {len(follows)} follows + events in "
            f"{loaded.timings['profiles: follows + FollowAdded events']:.1f} s", flush=True)

        t0 = time.monotonic()
        result = load_articles(connections["articles"], run_id, sizes, first, favorites,
                               newest, log)
        loaded.timings["articles: all owned data"] = time.monotonic() - t0
        for name, seconds in result["timings"].items():
            loaded.timings[f"articles: {name}"] = seconds
        loaded.article_ids = (result["first_article"],
                              result["first_article"] + sizes.articles - 1)
        log(f"  articles: {sizes.articles} articles, {sizes.tags} tags, {len(favorites)} "
            f"favorites in {loaded.timings['articles: all owned data']:.1f} s", flush=True)
        loaded.timings["vacuum analyze"] = sum(
            vacuum(connections[service], tables, log)
            for service, tables in OWNED_TABLES.items())
        loaded.timings["load total"] = time.monotonic() - t_start
        if wait:
            log("  waiting for the projectors to catch up", flush=True)
            loaded.timings["catch-up after the load"] = wait_caught_up(
                connections, catch_up_timeout, log)
            loaded.timings["load + catch-up"] = time.monotonic() - t_start
            watch.stop()
            for owner, seconds in watch.seconds.items():
                events = "UserRegistered" if owner == "auth" else "FollowAdded"
                loaded.timings[f"{owner}'s {events} events applied by every consumer, "
                               "after their commit"] = seconds
            # The projectors' tables grew by as much: statistics as autovacuum would leave.
            loaded.timings["vacuum analyze projections"] = sum(
                vacuum(connections[service], tables, log)
                for service, tables in PROJECTION_TABLES.items())
        loaded.counts = counts(connections)
        describe_heavy_users(loaded, connections["articles"], follows, favorites)
    finally:
        watch.stop()
        for connection in connections.values():
            connection.close()
    return loaded


def counts(connections) -> dict:
    queries = {"auth": {"users": "SELECT count(*) FROM auth.users",
                        "outbox events": "SELECT count(*) FROM auth.outbox"},
               "profiles": {"follows": "SELECT count(*) FROM profiles.follows",
                            "outbox events": "SELECT count(*) FROM profiles.outbox",
                            "users (projection)": "SELECT count(*) FROM profiles.users"},
               "articles": {"articles": "SELECT count(*) FROM articles.articles",
                            "tags": "SELECT count(*) FROM articles.tags",
                            "article_tags": "SELECT count(*) FROM articles.article_tags",
                            "favorites": "SELECT count(*) FROM articles.favorites",
                            "users (projection)": "SELECT count(*) FROM articles.users",
                            "follows (projection)": "SELECT count(*) FROM articles.follows"}}
    out = {}
    for service, named in queries.items():
        with connections[service].cursor() as cursor:
            for name, sql in named.items():
                try:
                    cursor.execute(sql)
                    out[f"{service}.{name}"] = cursor.fetchone()[0]
                except Exception as ex:  # noqa: BLE001 - a missing table is reported, not fatal
                    connections[service].rollback()
                    out[f"{service}.{name}"] = f"? ({type(ex).__name__})"
        connections[service].commit()
    return out


def describe_heavy_users(loaded: Loaded, articles, follows, favorites) -> None:
    first = loaded.user_ids[0]
    followees = Counter(a for a, _ in follows)
    rank, n = followees.most_common(1)[0] if followees else (0, 0)
    loaded.feed_user = {"username": username(loaded.run_id, rank), "id": first + rank,
                        "followees": n, "email": f"{username(loaded.run_id, rank)}@bench.example"}
    per_user = Counter(u for u, _ in favorites)
    rank, n = per_user.most_common(1)[0] if per_user else (0, 0)
    loaded.top_favoriter = {"username": username(loaded.run_id, rank), "id": first + rank,
                            "favorites": n}
    with articles.cursor() as cursor:
        cursor.execute("SELECT author_id, count(*) FROM articles.articles WHERE id >= %s "
                       "GROUP BY author_id ORDER BY 2 DESC LIMIT 1", (loaded.article_ids[0],))
        author_id, n = cursor.fetchone()
        loaded.top_author = {"username": username(loaded.run_id, author_id - first),
                             "id": author_id, "articles": n}
        cursor.execute("SELECT t.name, count(*) FROM articles.article_tags a "
                       "JOIN articles.tags t ON t.id = a.tag_id WHERE t.name LIKE %s "
                       "GROUP BY t.name ORDER BY 2 DESC LIMIT 1", (f"t{loaded.run_id}-%",))
        name, n = cursor.fetchone()
        loaded.top_tag = {"name": name, "articles": n}
    articles.commit()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = 100k users, 1M articles, 2M favorites (default)")
    parser.add_argument("--run-dir", type=Path, help="the launcher's state dir (RUN_DIR)")
    parser.add_argument("--pgport", type=int, default=5433)
    for service in ("auth", "profiles", "articles"):
        parser.add_argument(f"--{service}-url",
                            help=f"{service}'s schema owner URL (conduit_{service}_owner)")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for projectors")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--json", type=Path, help="write the result here")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    if opts.run_dir:
        urls = urls_from_run_dir(opts.run_dir, opts.pgport)
    else:
        urls = {s: getattr(opts, f"{s}_url") for s in ("auth", "profiles", "articles")}
        if not all(urls.values()):
            raise SystemExit("give --run-dir or all three --<service>-url")
    sizes = Sizes.scaled(opts.scale)
    print(f"bulk load: {sizes}", flush=True)
    loaded = bulk_load(urls, sizes, catch_up_timeout=opts.timeout, wait=not opts.no_wait)
    text = json.dumps(loaded.to_json(), indent=2, default=str)
    if opts.json:
        opts.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

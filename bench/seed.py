"""Seed benchmark data through the gateway, like a client would.

20 users (each with 10 articles carrying 2-3 tags from a fixed pool), follows
(each user follows the next 5), favorites (10 per user) and comments (2 per
article, 10 on the article the comments endpoint reads). Names carry a run id,
so seeding twice into the same database does not collide.
"""
import random
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

TAGS = ("dragons", "training", "python", "falcon", "postgres", "nginx", "latency",
        "benchmarks", "microservices", "gunicorn", "caching", "testing")
PASSWORD = "bench-password-1234"
PARAGRAPH = ("Throughput is a property of the whole path: the gateway, every hop between "
             "services, the queries and the serialisation of the answer. ")


class SeedError(RuntimeError):
    pass


@dataclass
class Seeded:
    run_id: str
    users: list[dict] = field(default_factory=list)        # {"username", "token"}
    articles: list[list[str]] = field(default_factory=list)  # slugs per user
    tag: str = TAGS[0]

    @property
    def reader(self) -> dict:
        """The user whose token the signed-in endpoints use (follows users 1..5)."""
        return self.users[0]

    @property
    def hot_article(self) -> str:
        """The article the single-article and comments endpoints read (by user 1)."""
        return self.articles[1][0]

    def favorite_targets(self, count: int = 10) -> list[str]:
        """Articles of users 10..19 that the reader toggles as favorites."""
        return [slugs[-1] for slugs in self.articles[10:10 + count]]


class Client:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        self.session.mount("http://", adapter)

    def call(self, method: str, path: str, token: str | None = None, body=None,
             expect=(200, 201)) -> dict:
        headers = {"Authorization": f"Token {token}"} if token else {}
        resp = self.session.request(method, self.base + path, json=body, headers=headers,
                                    timeout=30)
        if resp.status_code not in expect:
            raise SeedError(f"{method} {path} -> {resp.status_code}: {resp.text[:300]}")
        return resp.json() if resp.content else {}


def seed(base_url: str, users: int = 20, articles_per_user: int = 10, follows: int = 5,
         favorites_per_user: int = 10, comments_per_article: int = 2, workers: int = 8,
         log=print) -> Seeded:
    client = Client(base_url)
    rng = random.Random(20240501)
    data = Seeded(run_id=secrets.token_hex(3))
    pool = ThreadPoolExecutor(max_workers=workers)

    def register(i):
        name = f"bench{data.run_id}u{i:02d}"
        body = {"user": {"username": name, "email": f"{name}@bench.example",
                         "password": PASSWORD}}
        user = client.call("POST", "/users", body=body)["user"]
        return {"username": user["username"], "token": user["token"]}

    data.users = list(pool.map(register, range(users)))
    log(f"  {users} users registered")

    def follow(pair):
        i, j = pair
        client.call("POST", f"/profiles/{data.users[j]['username']}/follow",
                    token=data.users[i]["token"])

    pairs = [(i, (i + k) % users) for i in range(users) for k in range(1, follows + 1)]
    list(pool.map(follow, pairs))
    log(f"  {len(pairs)} follows")

    def publish(pair):
        i, j = pair
        tags = sorted({TAGS[(i + j) % len(TAGS)], TAGS[(3 * i + 2 * j) % len(TAGS)],
                       TAGS[0] if j % 2 == 0 else TAGS[(i * j) % len(TAGS)]})
        body = {"article": {
            "title": f"Bench {data.run_id} article {i}-{j}",
            "description": f"Article {j} of user {i}, written for the benchmark",
            "body": PARAGRAPH * 8,
            "tagList": tags,
        }}
        created = client.call("POST", "/articles", token=data.users[i]["token"], body=body)
        return created["article"]["slug"]

    grid = [(i, j) for i in range(users) for j in range(articles_per_user)]
    slugs = list(pool.map(publish, grid))
    data.articles = [slugs[i * articles_per_user:(i + 1) * articles_per_user]
                     for i in range(users)]
    log(f"  {len(slugs)} articles")

    def favorite(pair):
        i, slug = pair
        client.call("POST", f"/articles/{slug}/favorite", token=data.users[i]["token"])

    favs = [(i, slug) for i in range(users) for slug in rng.sample(slugs, favorites_per_user)]
    list(pool.map(favorite, favs))
    log(f"  {len(favs)} favorites")

    def comment(triple):
        i, slug, n = triple
        body = {"comment": {"body": f"Comment {n} by user {i}: measured, not guessed."}}
        client.call("POST", f"/articles/{slug}/comments", token=data.users[i]["token"],
                    body=body)

    notes = [((k + 1 + n) % users, slug, n) for k, slug in enumerate(slugs)
             for n in range(comments_per_article)]
    notes += [((2 + n) % users, data.hot_article, n) for n in range(10)]
    list(pool.map(comment, notes))
    log(f"  {len(notes)} comments")
    pool.shutdown()
    return data

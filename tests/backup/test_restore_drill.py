"""The restore drill: seed through the API, back up, destroy the data directory,
restore, start the stack, and find everything again, through the API and in the
read models (which must agree with their owners)."""
import json
import shutil

import requests
import sqlalchemy
from conduit_common.testing import postgres
from conduit_dev import backup, processes

USERS = ("alice", "bob", "carol")
PASSWORD = "drill-password-1"


class Client:
    def __init__(self, api_url):
        self.api = api_url
        self.http = requests.Session()

    def call(self, method, path, token=None, body=None, status=200):
        headers = {"Authorization": f"Token {token}"} if token else {}
        response = self.http.request(method, self.api + path, json=body, headers=headers,
                                     timeout=10)
        assert response.status_code == status, (method, path, response.text)
        return response.json() if response.content else None


def seed(client):
    tokens = {}
    for name in USERS:
        user = client.call("POST", "/users", body={"user": {
            "username": name, "email": f"{name}@drill.example", "password": PASSWORD}},
            status=201)["user"]
        tokens[name] = user["token"]
    client.call("PUT", "/user", tokens["alice"], {"user": {"bio": "writes about backups"}})
    for follower, followee in (("bob", "alice"), ("carol", "alice"), ("alice", "bob")):
        client.call("POST", f"/profiles/{followee}/follow", tokens[follower])
    slugs = []
    for author, title, tags in (("alice", "Restore drills", ["ops", "postgres"]),
                                ("alice", "WAL archives", ["postgres"]),
                                ("bob", "Pooling", ["pgbouncer"])):
        slugs.append(client.call("POST", "/articles", tokens[author], {"article": {
            "title": title, "description": f"{title}, briefly", "body": f"All about {title}.",
            "tagList": tags}}, status=201)["article"]["slug"])
    for author, slug, text in (("bob", slugs[0], "Tried it."), ("carol", slugs[0], "Me too."),
                               ("alice", slugs[2], "Transaction mode?")):
        client.call("POST", f"/articles/{slug}/comments", tokens[author],
                    {"comment": {"body": text}}, status=201)
    for user, slug in (("bob", slugs[0]), ("carol", slugs[0]), ("alice", slugs[2])):
        client.call("POST", f"/articles/{slug}/favorite", tokens[user])
    return tokens, slugs


def views(client, tokens, slugs):
    """Every user, follow, article, comment and favorite as each user sees it."""
    seen = {"tags": client.call("GET", "/tags")}
    for viewer in (None, *USERS):
        token = tokens.get(viewer)
        for name in USERS:
            seen[f"profile {name} by {viewer}"] = client.call("GET", f"/profiles/{name}", token)
        for slug in slugs:
            seen[f"article {slug} by {viewer}"] = client.call("GET", f"/articles/{slug}", token)
            seen[f"comments {slug} by {viewer}"] = client.call(
                "GET", f"/articles/{slug}/comments", token)
        seen[f"list by {viewer}"] = client.call("GET", "/articles?limit=100", token)
        for name in USERS:
            seen[f"favorited {name} by {viewer}"] = client.call(
                "GET", f"/articles?favorited={name}", token)
        if viewer:
            seen[f"user {viewer}"] = client.call("GET", "/user", token)
            seen[f"feed {viewer}"] = client.call("GET", "/articles/feed", token)
    return seen


def read_models_agree(admin_url):
    """profiles.users and articles.users equal auth.users; articles.follows equals
    profiles.follows (the projections have caught up with their owners)."""
    engine = sqlalchemy.create_engine(admin_url.rsplit("/", 1)[0] + "/conduit")
    users = "SELECT id, username, bio, image FROM {}.users ORDER BY id"
    follows = "SELECT follower_id, followee_id FROM {}.follows ORDER BY 1, 2"
    try:
        with engine.connect() as connection:
            def rows(sql):
                return [tuple(r) for r in connection.execute(sqlalchemy.text(sql))]
            owner_users = rows(users.format("auth"))
            owner_follows = rows(follows.format("profiles"))
            return (owner_users, owner_follows, rows(users.format("profiles")),
                    rows(users.format("articles")), rows(follows.format("articles")))
    finally:
        engine.dispose()


def test_restore_drill(config, run_dir):
    client = None
    with processes.running_stack(config, run_dir / "logs") as stack:
        client = Client(stack.api_url)
        tokens, slugs = seed(client)
        before = views(client, tokens, slugs)
        dump = backup.backup(config)
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["row_counts"]["auth.users"] == 3
    assert manifest["row_counts"]["articles.comments"] == 3
    assert set(manifest["schema_versions"]) == {"auth", "profiles", "articles"}

    # The disk is gone: the data directory with everything in it.
    data = (run_dir / "pg").resolve()
    shutil.rmtree(data)
    assert not (run_dir / "pg" / "data").exists()

    restored = backup.restore(config, dump)
    assert restored["sha256"] == manifest["sha256"]

    with processes.running_stack(config, run_dir / "logs") as stack:
        client = Client(stack.api_url)
        after = views(client, tokens, slugs)
        assert after.keys() == before.keys()
        for key in before:
            assert after[key] == before[key], key
        admin_url = postgres.ThrowawayCluster(datadir=run_dir / "pg",
                                              port=config.pg_port).admin_url
        owner_users, owner_follows, profile_users, article_users, article_follows = \
            read_models_agree(admin_url)
        assert len(owner_users) == 3 and len(owner_follows) == 3
        assert profile_users == owner_users and article_users == owner_users
        assert article_follows == owner_follows
        # The event feeds work after the restore: a new user and follow reach the copies.
        dave = client.call("POST", "/users", body={"user": {
            "username": "dave", "email": "dave@drill.example", "password": PASSWORD}},
            status=201)["user"]["token"]
        client.call("POST", "/profiles/alice/follow", dave)
        assert client.call("GET", "/profiles/dave")["profile"]["username"] == "dave"
        feed = client.call("GET", "/articles/feed", dave)
        assert {a["slug"] for a in feed["articles"]} == set(slugs[:2])

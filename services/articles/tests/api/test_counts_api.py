"""articlesCount comes from maintained counts: it must stay exact through every write.

After each write, every kind of list (all, tag, author, favorited, feed) is compared
with a brute-force count over the rows themselves and with the rows of a full page.
"""
import sqlalchemy

BRUTE_FORCE = {
    "all": "SELECT count(*) FROM articles.articles",
    "tag": "SELECT count(*) FROM articles.article_tags at "
           "JOIN articles.tags t ON t.id = at.tag_id WHERE t.name = :value",
    "author": "SELECT count(*) FROM articles.articles a "
              "JOIN articles.users u ON u.id = a.author_id "
              "WHERE lower(u.username) = lower(:value)",
    "favorited": "SELECT count(*) FROM articles.favorites f "
                 "JOIN articles.users u ON u.id = f.user_id "
                 "WHERE lower(u.username) = lower(:value)",
    "feed": "SELECT count(*) FROM articles.articles a "
            "JOIN articles.follows f ON f.followee_id = a.author_id "
            "WHERE f.follower_id = :value",
}
TAGS = ("dragons", "training", "zebra")
NAMES = ("jake", "ann", "bob")


def brute_force(engine, kind, value=None):
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.text(BRUTE_FORCE[kind]),
                                  {"value": value}).scalar_one()


def listed(client, path, query="", headers=None):
    result = client.simulate_get(path, query_string=f"{query}&limit=100", headers=headers)
    assert result.status_code == 200, result.json
    return len(result.json["articles"]), result.json["articlesCount"]


def assert_every_count_is_exact(client, engine, counts, users, step):
    lists = [("all", None, "/api/articles", "", None)]
    lists += [("tag", tag, "/api/articles", f"tag={tag}", None) for tag in TAGS]
    lists += [("author", name, "/api/articles", f"author={name}", None) for name in NAMES]
    lists += [("favorited", name, "/api/articles", f"favorited={name}", None) for name in NAMES]
    lists += [("feed", user.id, "/api/articles/feed", "", user.headers) for user in users]
    for kind, value, path, query, headers in lists:
        expected = brute_force(engine, kind, value)
        assert listed(client, path, query, headers) == (expected, expected), (step, kind, value)
    assert counts.stored() == counts.brute_force(), step
    latest = counts.latest()
    assert latest["stored"] == latest["found"], step
    assert counts.stale_follow_copies() == [], step


def test_articles_count_stays_exact_through_every_kind_of_write(
        client, engine, counts, make_user, post_article, directory):
    jake, ann, bob = (make_user(name) for name in NAMES)
    directory.follow(bob.id, jake.id)
    directory.follow(bob.id, ann.id)
    directory.follow(ann.id, jake.id)
    users = (jake, ann, bob)

    def check(step):
        assert_every_count_is_exact(client, engine, counts, users, step)

    def request(method, path, user, **kwargs):
        result = client.simulate_request(method, path, headers=user.headers, **kwargs)
        assert result.status_code in (200, 204), (method, path, result.json)
        return result.json

    check("empty")
    first = post_article(jake, title="First", tags=["dragons", "training"])["slug"]
    second = post_article(ann, title="Second", tags=["dragons"])["slug"]
    third = post_article(jake, title="Third", tags=[])["slug"]
    same_title = post_article(jake, title="Third", tags=["zebra"])["slug"]   # slug retried
    check("created")
    assert listed(client, "/api/articles") == (4, 4)
    for user, slug in ((ann, first), (ann, third), (bob, first), (ann, first), (jake, second)):
        request("POST", f"/api/articles/{slug}/favorite", user)   # ann's second one: no-op
    check("favorited")
    assert listed(client, "/api/articles", "favorited=ann") == (2, 2)
    request("PUT", f"/api/articles/{first}", jake, json={"article": {"tagList": ["training",
                                                                                 "zebra"]}})
    request("PUT", f"/api/articles/{second}", ann, json={"article": {"tagList": []}})
    third = request("PUT", f"/api/articles/{third}", jake,
                    json={"article": {"title": "Renamed"}})["article"]["slug"]
    check("tags changed")
    assert listed(client, "/api/articles", "tag=dragons") == (0, 0)
    for _ in range(2):
        request("DELETE", f"/api/articles/{third}/favorite", ann)   # the second: no-op
    request("DELETE", f"/api/articles/{second}/favorite", jake)
    check("unfavorited")
    request("DELETE", f"/api/articles/{first}", jake)   # tagged and favorited by two
    check("deleted")
    assert listed(client, "/api/articles", "favorited=bob") == (0, 0)
    assert listed(client, "/api/articles", "tag=zebra") == (1, 1)
    request("DELETE", f"/api/articles/{same_title}", jake)
    post_article(ann, title="Fourth", tags=["zebra", "dragons"])
    directory.follow(bob.id, ann.id, present=False)
    check("after more writes and an unfollow")
    assert listed(client, "/api/articles/feed", headers=bob.headers) == (1, 1)   # "Renamed"
    assert listed(client, "/api/articles") == (3, 3)


def test_a_refused_write_moves_no_count(client, engine, counts, make_user, post_article):
    jake, ann = make_user("jake"), make_user("ann")
    slug = post_article(jake, tags=["dragons"])["slug"]
    before = counts.stored()
    refused = [
        client.simulate_put(f"/api/articles/{slug}", headers=ann.headers,
                            json={"article": {"tagList": ["stolen"]}}),
        client.simulate_delete(f"/api/articles/{slug}", headers=ann.headers),
        client.simulate_post("/api/articles", headers=jake.headers,
                             json={"article": {"title": "", "description": "d", "body": "b"}}),
        client.simulate_post("/api/articles/nope/favorite", headers=ann.headers),
    ]
    assert [result.status_code for result in refused] == [403, 403, 422, 404]
    assert counts.stored() == before == counts.brute_force()


def test_unknown_author_or_favorited_names_give_an_empty_page_and_zero(
        client, make_user, post_article):
    jake = make_user("jake")
    post_article(jake)
    for query in ("author=ghost", "favorited=ghost", "favorited=jake", "author=jak",
                  "author=ghost&tag=dragons", "favorited=ghost&author=jake"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert result.json == {"articles": [], "articlesCount": 0}, query


def test_a_renamed_user_is_found_by_the_new_name_only(
        client, make_user, post_article, directory):
    jake, ann = make_user("jake"), make_user("ann")
    article = post_article(jake)
    client.simulate_post(f"/api/articles/{article['slug']}/favorite", headers=ann.headers)
    directory.add("jacob", bio="renamed", user_id=jake.id, version=2)
    directory.add("annie", user_id=ann.id, version=2)
    for query in ("author=jacob", "favorited=annie", "author=Jacob&favorited=ANNIE"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert result.json["articlesCount"] == 1, query
        [item] = result.json["articles"]
        assert (item["author"]["username"], item["author"]["bio"]) == ("jacob", "renamed")
    for query in ("author=jake", "favorited=ann", "author=jake&favorited=annie"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert result.json == {"articles": [], "articlesCount": 0}, query
    single = client.simulate_get(f"/api/articles/{article['slug']}").json["article"]
    assert single["author"]["username"] == "jacob"


def test_a_freed_name_taken_by_another_user_points_at_that_user(
        client, make_user, post_article, directory):
    jake = make_user("jake")
    post_article(jake)
    directory.add("jacob", user_id=jake.id, version=2)
    newcomer = make_user("jake")
    post_article(newcomer, title="By the new jake")
    result = client.simulate_get("/api/articles", query_string="author=jake")
    assert [a["slug"] for a in result.json["articles"]] == ["by-the-new-jake"]
    assert result.json["articlesCount"] == 1


def test_an_older_version_never_overwrites_a_newer_one(
        client, make_user, post_article, directory):
    jake = make_user("jake")
    article = post_article(jake)
    directory.add("jacob", image="https://i.example/3.png", user_id=jake.id, version=3)
    directory.add("jake-v2", image="https://i.example/2.png", user_id=jake.id, version=2)
    directory.add("jake-v3-replayed", user_id=jake.id, version=3)
    author = client.simulate_get(f"/api/articles/{article['slug']}").json["article"]["author"]
    assert (author["username"], author["image"]) == ("jacob", "https://i.example/3.png")
    assert client.simulate_get("/api/articles",
                               query_string="author=jake-v2").json["articlesCount"] == 0
    assert client.simulate_get("/api/articles",
                               query_string="author=jacob").json["articlesCount"] == 1

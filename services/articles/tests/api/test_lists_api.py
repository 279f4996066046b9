"""Lists and the feed: filters, paging, counts, and the cost of a page."""
import pytest
import sqlalchemy

from conduit_common.testing.counting import counting_statements


def slugs(result):
    return [article["slug"] for article in result.json["articles"]]


def test_list_is_newest_first_without_bodies(client, make_user, post_article):
    jake = make_user("jake")
    first, second = post_article(jake, title="First"), post_article(jake, title="Second")
    result = client.simulate_get("/api/articles")
    assert result.status_code == 200
    assert slugs(result) == [second["slug"], first["slug"]]
    assert result.json["articlesCount"] == 2
    assert all("body" not in article for article in result.json["articles"])


def test_paging_returns_the_slice_and_the_total(client, make_user, post_article):
    jake = make_user("jake")
    created = [post_article(jake, title=f"Post {n}")["slug"] for n in range(5)]
    result = client.simulate_get("/api/articles", query_string="limit=2&offset=1")
    assert slugs(result) == [created[3], created[2]]
    assert result.json["articlesCount"] == 5


def test_filters_by_tag_author_and_favorited_together(
        client, make_user, post_article, auth_peer):
    jake, ann = make_user("jake"), make_user("ann")
    wanted = post_article(jake, title="Wanted", tags=["dragons"])
    post_article(jake, title="Untagged", tags=[])
    liked_by_other = post_article(ann, title="Ann's", tags=["dragons"])
    for article in (wanted, liked_by_other):
        client.simulate_post(f"/api/articles/{article['slug']}/favorite", headers=ann.headers)
    auth_peer.calls.clear()
    result = client.simulate_get("/api/articles",
                                 query_string="tag=dragons&author=JAKE&favorited=ann")
    assert slugs(result) == [wanted["slug"]]
    assert result.json["articlesCount"] == 1
    assert auth_peer.calls == [("/internal/users", {"username": ["JAKE", "ann"]})]


def test_unknown_author_or_tag_gives_an_empty_list(client, make_user, post_article):
    post_article(make_user("jake"))
    for query in ("author=nobody", "favorited=nobody", "tag=nothing"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert result.json == {"articles": [], "articlesCount": 0}


def test_list_shows_favorited_and_following_for_the_viewer(
        client, make_user, post_article, directory):
    jake, ann = make_user("jake"), make_user("ann")
    article = post_article(jake)
    directory.follows.add((ann.id, jake.id))
    client.simulate_post(f"/api/articles/{article['slug']}/favorite", headers=ann.headers)
    [item] = client.simulate_get("/api/articles", headers=ann.headers).json["articles"]
    assert (item["favorited"], item["favoritesCount"], item["author"]["following"]) == (
        True, 1, True)
    [anonymous] = client.simulate_get("/api/articles").json["articles"]
    assert (anonymous["favorited"], anonymous["author"]["following"]) == (False, False)


def test_feed_has_only_followed_authors_newest_first(
        client, make_user, post_article, directory):
    jake, ann, bob = make_user("jake"), make_user("ann"), make_user("bob")
    older = post_article(jake, title="Older")
    post_article(bob, title="Not followed")
    newer = post_article(ann, title="Newer")
    directory.follows.update({(bob.id, jake.id), (bob.id, ann.id)})
    result = client.simulate_get("/api/articles/feed", headers=bob.headers)
    assert result.status_code == 200
    assert slugs(result) == [newer["slug"], older["slug"]]
    assert result.json["articlesCount"] == 2
    assert all(article["author"]["following"] for article in result.json["articles"])


def test_feed_of_someone_who_follows_nobody_is_empty_without_touching_the_database(
        client, make_user, post_article, engine):
    post_article(make_user("jake"))
    loner = make_user("loner")
    with counting_statements(engine) as log:
        result = client.simulate_get("/api/articles/feed", headers=loner.headers)
    assert result.json == {"articles": [], "articlesCount": 0}
    assert log.count == 0


def seed_articles(engine, count, author_ids):
    """Many articles written in bulk, each with tags and one favorite."""
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.articles (slug, title, description, body, author_id, "
            "favorites_count) SELECT 'bulk-' || n, 'Bulk ' || n, 'd', 'b', "
            "(ARRAY[:a, :b])[n % 2 + 1], 1 FROM generate_series(1, :n) n"),
            {"n": count, "a": author_ids[0], "b": author_ids[1]})
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.tags (name) VALUES ('bulk'), ('more')"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_tags SELECT a.id, t.id "
            "FROM articles.articles a CROSS JOIN articles.tags t"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.favorites (user_id, article_id) "
            "SELECT :b, id FROM articles.articles"), {"b": author_ids[1]})


def measure(client, engine, peers, path, query, headers):
    for peer in peers:
        peer.calls.clear()
    with counting_statements(engine) as log:
        result = client.simulate_get(path, query_string=query, headers=headers)
    assert result.status_code == 200
    return log.count, [peer.paths() for peer in peers], result.json


@pytest.mark.parametrize("path, query", [
    ("/api/articles", ""),
    ("/api/articles", "tag=bulk&author=jake&favorited=ann"),
    ("/api/articles/feed", ""),
])
def test_page_of_20_and_page_of_100_cost_the_same_statements_and_calls(
        client, engine, make_user, directory, auth_peer, profiles_peer, path, query):
    jake, ann = make_user("jake"), make_user("ann")
    directory.follows.update({(ann.id, jake.id), (ann.id, ann.id)})
    seed_articles(engine, 150, (jake.id, ann.id))
    peers = (auth_peer, profiles_peer)
    small = measure(client, engine, peers, path, f"{query}&limit=20", ann.headers)
    large = measure(client, engine, peers, path, f"{query}&limit=100", ann.headers)
    assert (len(small[2]["articles"]), len(large[2]["articles"])) == (20, 75 if query else 100)
    assert small[:2] == large[:2]
    statements, (auth_calls, profiles_calls) = large[:2]
    assert statements == 2, statements   # the page and its count
    # One call per peer at most: the feed asks profiles whom the viewer follows and
    # auth for those authors; lists ask auth for filter names, profiles for authors.
    assert len(auth_calls) == (1 if query or "feed" in path else 0)
    expected = ["/internal/following"] if "feed" in path else ["/internal/profiles"]
    assert profiles_calls == expected
    assert all(article["tagList"] == ["bulk", "more"] for article in large[2]["articles"])

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


def test_filters_by_tag_author_and_favorited_together(client, make_user, post_article):
    jake, ann = make_user("jake"), make_user("ann")
    wanted = post_article(jake, title="Wanted", tags=["dragons"])
    post_article(jake, title="Untagged", tags=[])
    liked_by_other = post_article(ann, title="Ann's", tags=["dragons"])
    for article in (wanted, liked_by_other):
        client.simulate_post(f"/api/articles/{article['slug']}/favorite", headers=ann.headers)
    result = client.simulate_get("/api/articles",
                                 query_string="tag=dragons&author=JAKE&favorited=ann")
    assert slugs(result) == [wanted["slug"]]
    assert result.json["articlesCount"] == 1
    result = client.simulate_get("/api/articles", query_string="tag=dragons&favorited=ann")
    assert slugs(result) == [liked_by_other["slug"], wanted["slug"]]
    assert result.json["articlesCount"] == 2


def test_author_and_favorited_names_match_in_any_case(client, make_user, post_article):
    jake, ann = make_user("Jake"), make_user("ann")
    article = post_article(jake)
    client.simulate_post(f"/api/articles/{article['slug']}/favorite", headers=ann.headers)
    for query in ("author=jake", "author=JAKE", "favorited=ANN"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert (slugs(result), result.json["articlesCount"]) == ([article["slug"]], 1), query


def test_unknown_author_or_tag_gives_an_empty_list(client, make_user, post_article):
    post_article(make_user("jake"))
    for query in ("author=nobody", "favorited=nobody", "tag=nothing",
                  "tag=training&author=nobody", "author=jake&favorited=nobody",
                  "tag=nothing&author=jake"):
        result = client.simulate_get("/api/articles", query_string=query)
        assert result.json == {"articles": [], "articlesCount": 0}, query


def test_list_shows_favorited_and_following_for_the_viewer(
        client, make_user, post_article, directory):
    jake, ann = make_user("jake"), make_user("ann")
    article = post_article(jake)
    directory.follow(ann.id, jake.id)
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
    directory.follow(bob.id, jake.id)
    directory.follow(bob.id, ann.id)
    result = client.simulate_get("/api/articles/feed", headers=bob.headers)
    assert result.status_code == 200
    assert slugs(result) == [newer["slug"], older["slug"]]
    assert result.json["articlesCount"] == 2
    assert all(article["author"]["following"] for article in result.json["articles"])


def test_feed_of_someone_who_follows_nobody_is_empty_in_one_statement(
        client, make_user, post_article, engine, warm_token_check):
    post_article(make_user("jake"))
    loner = make_user("loner")
    warm_token_check(loner.headers)
    with counting_statements(engine) as log:
        result = client.simulate_get("/api/articles/feed", headers=loner.headers)
    assert result.json == {"articles": [], "articlesCount": 0}
    assert log.count == 1, log


def test_feed_count_is_the_sum_over_followees_and_follows_the_follows(
        client, make_user, post_article, directory):
    jake, ann, bob, idle = (make_user(name) for name in ("jake", "ann", "bob", "idle"))
    for n in range(3):
        post_article(jake, title=f"Jake {n}")
    for n in range(2):
        post_article(ann, title=f"Ann {n}")
    post_article(bob, title="Bob's own")   # one's own articles are not in one's feed
    for followee in (jake, ann, idle):
        directory.follow(bob.id, followee.id)

    def feed():
        result = client.simulate_get("/api/articles/feed", query_string="limit=2",
                                     headers=bob.headers)
        return len(result.json["articles"]), result.json["articlesCount"]

    assert feed() == (2, 5)
    directory.follow(bob.id, ann.id, present=False)
    assert feed() == (2, 3)
    directory.follow(bob.id, jake.id, present=False)
    assert feed() == (0, 0)


def test_feed_pages_merge_the_followees_newest_first(
        client, make_user, post_article, directory):
    jake, ann, bob = make_user("jake"), make_user("ann"), make_user("bob")
    created = [post_article(author, title=f"Post {n}")["slug"]
               for n, author in enumerate([jake, ann, ann, jake, ann, jake, jake])]
    directory.follow(bob.id, jake.id)
    directory.follow(bob.id, ann.id)
    newest_first = created[::-1]
    for offset in range(0, 8, 3):
        result = client.simulate_get("/api/articles/feed", headers=bob.headers,
                                     query_string=f"limit=3&offset={offset}")
        assert slugs(result) == newest_first[offset:offset + 3]
        assert result.json["articlesCount"] == 7


def seed_articles(engine, counts, count, author_ids):
    """Many articles written in bulk, each with two tags and one favorite."""
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.articles (slug, title, description, body, author_id) "
            "SELECT 'bulk-' || n, 'Bulk ' || n, 'd', 'b', "
            "(ARRAY[:a, :b])[n % 2 + 1] FROM generate_series(1, :n) n"),
            {"n": count, "a": author_ids[0], "b": author_ids[1]})
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.tags (name) VALUES ('bulk'), ('more')"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.article_tags (article_id, tag_id, created_at) "
            "SELECT a.id, t.id, a.created_at FROM articles.articles a CROSS JOIN articles.tags t"))
        connection.execute(sqlalchemy.text(
            "INSERT INTO articles.favorites (user_id, article_id, article_created_at) "
            "SELECT :b, id, created_at FROM articles.articles"), {"b": author_ids[1]})
    counts.rebuild()


def measure(client, engine, path, query, headers):
    # Warm the viewer's token check (cached 1 s): what is counted is the read itself.
    client.simulate_get("/api/articles", query_string="limit=1", headers=headers)
    with counting_statements(engine) as log:
        result = client.simulate_get(path, query_string=query, headers=headers)
    assert result.status_code == 200
    return log.count, result.json


LISTS = [
    ("/api/articles", "", 150),
    ("/api/articles", "tag=bulk", 150),
    ("/api/articles", "author=jake", 75),
    ("/api/articles", "favorited=ann", 150),
    ("/api/articles", "tag=bulk&author=jake&favorited=ann", 75),
    ("/api/articles/feed", "", 150),
]


@pytest.fixture
def reader(engine, counts, make_user, directory):
    """ann, who follows jake and herself, over 150 articles by the two of them."""
    jake, ann = make_user("jake"), make_user("ann")
    directory.follow(ann.id, jake.id)
    directory.follow(ann.id, ann.id)
    seed_articles(engine, counts, 150, (jake.id, ann.id))
    return ann


@pytest.mark.parametrize("path, query, matching", LISTS)
def test_page_of_20_and_page_of_100_cost_the_same_one_statement(
        client, engine, reader, path, query, matching):
    ann = reader
    small = measure(client, engine, path, f"{query}&limit=20", ann.headers)
    large = measure(client, engine, path, f"{query}&limit=100", ann.headers)
    assert (len(small[1]["articles"]), len(large[1]["articles"])) == (20, min(matching, 100))
    assert small[1]["articlesCount"] == large[1]["articlesCount"] == matching
    assert small[0] == large[0] == 1, (small[0], large[0])   # the page, its total inside
    assert all(article["tagList"] == ["bulk", "more"] and article["favorited"]
               for article in large[1]["articles"])
    authors = {article["author"]["username"]: article["author"]["following"]
               for article in large[1]["articles"]}
    assert authors == ({"jake": True} if "author" in query else {"jake": True, "ann": True})


@pytest.mark.parametrize("path, query, matching", LISTS)
def test_a_page_past_the_end_is_empty_and_still_tells_the_total(
        client, engine, reader, path, query, matching):
    statements, found = measure(client, engine, path, f"{query}&limit=20&offset=500",
                                reader.headers)
    assert found == {"articles": [], "articlesCount": matching}
    assert statements == 2          # the empty page, then its total apart

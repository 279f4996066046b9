"""Comments: list, add, delete by their author only, scoped to their article."""
from conduit_common.testing.counting import counting_statements

COMMENT_KEYS = {"id", "createdAt", "updatedAt", "body", "author"}


def comment_on(client, user, slug, body="Thank you so much!"):
    result = client.simulate_post(f"/api/articles/{slug}/comments", headers=user.headers,
                                  json={"comment": {"body": body}})
    assert result.status_code == 201, result.json
    return result.json["comment"]


def test_added_comment_has_the_spec_fields_and_its_author(client, make_user, post_article):
    article, ann = post_article(make_user("jake")), make_user("ann", bio="hi")
    comment = comment_on(client, ann, article["slug"])
    assert set(comment) == COMMENT_KEYS
    assert isinstance(comment["id"], int)
    assert comment["author"] == {"username": "ann", "bio": "hi", "image": None,
                                 "following": False}


def test_comments_are_listed_newest_first_in_one_statement(
        client, engine, make_user, post_article, directory, warm_token_check):
    jake, ann, bob = make_user("jake"), make_user("ann"), make_user("bob")
    article = post_article(jake)
    first = comment_on(client, ann, article["slug"], "first")
    second = comment_on(client, jake, article["slug"], "second")
    third = comment_on(client, ann, article["slug"], "third")
    directory.follow(bob.id, ann.id)
    warm_token_check(bob.headers)
    for headers in ({}, bob.headers):
        with counting_statements(engine) as log:
            result = client.simulate_get(f"/api/articles/{article['slug']}/comments",
                                         headers=headers)
        assert result.status_code == 200
        assert log.count == 1, log
    assert [c["id"] for c in result.json["comments"]] == [third["id"], second["id"], first["id"]]
    assert [(c["author"]["username"], c["author"]["following"])
            for c in result.json["comments"]] == [("ann", True), ("jake", False), ("ann", True)]


def test_no_comments_and_an_unknown_article_are_each_one_statement(
        client, engine, make_user, post_article):
    article = post_article(make_user("jake"))
    for slug, status in ((article["slug"], 200), ("nope", 404)):
        with counting_statements(engine) as log:
            result = client.simulate_get(f"/api/articles/{slug}/comments")
        assert result.status_code == status
        assert log.count == 1, log
    assert client.simulate_get(f"/api/articles/{article['slug']}/comments").json == {
        "comments": []}


def test_comment_authors_come_from_the_users_read_model(
        client, make_user, post_article, directory):
    jake, ann = make_user("jake"), make_user("ann")
    article = post_article(jake)
    comment = comment_on(client, ann, article["slug"])
    directory.add("annie", bio="renamed", user_id=ann.id, version=2)
    [listed] = client.simulate_get(f"/api/articles/{article['slug']}/comments").json["comments"]
    assert listed["id"] == comment["id"]
    assert (listed["author"]["username"], listed["author"]["bio"]) == ("annie", "renamed")


def test_comments_of_an_unknown_article_are_404(client, make_user):
    assert client.simulate_get("/api/articles/nope/comments").status_code == 404
    result = client.simulate_post("/api/articles/nope/comments", headers=make_user("a").headers,
                                  json={"comment": {"body": "x"}})
    assert result.status_code == 404


def test_author_can_delete_own_comment(client, make_user, post_article):
    jake = make_user("jake")
    article = post_article(jake)
    comment = comment_on(client, jake, article["slug"])
    result = client.simulate_delete(f"/api/articles/{article['slug']}/comments/{comment['id']}",
                                    headers=jake.headers)
    assert result.status_code == 204
    assert client.simulate_get(f"/api/articles/{article['slug']}/comments").json == {
        "comments": []}


def test_someone_else_cannot_delete_a_comment(client, make_user, post_article):
    jake = make_user("jake")
    article = post_article(jake)
    comment = comment_on(client, jake, article["slug"])
    result = client.simulate_delete(f"/api/articles/{article['slug']}/comments/{comment['id']}",
                                    headers=make_user("ann").headers)
    assert result.status_code == 403
    assert len(client.simulate_get(
        f"/api/articles/{article['slug']}/comments").json["comments"]) == 1


def test_comment_id_of_another_article_is_404(client, make_user, post_article):
    jake = make_user("jake")
    first, second = post_article(jake, title="One"), post_article(jake, title="Two")
    comment = comment_on(client, jake, first["slug"])
    result = client.simulate_delete(f"/api/articles/{second['slug']}/comments/{comment['id']}",
                                    headers=jake.headers)
    assert result.status_code == 404
    assert result.json == {"errors": {"body": ["comment not found"]}}


def test_deleting_the_article_removes_its_comments(client, make_user, post_article):
    jake = make_user("jake")
    article = post_article(jake)
    comment_on(client, jake, article["slug"])
    client.simulate_delete(f"/api/articles/{article['slug']}", headers=jake.headers)
    again = post_article(jake)   # same title: the freed slug is reused
    assert again["slug"] == article["slug"]
    assert client.simulate_get(f"/api/articles/{again['slug']}/comments").json == {
        "comments": []}

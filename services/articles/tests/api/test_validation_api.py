"""Authentication and input errors: 401 and 422 in the RealWorld error shape."""
import pytest

from conduit_common.testing.counting import counting_statements

WRITES = [
    ("POST", "/api/articles"),
    ("PUT", "/api/articles/some-slug"),
    ("DELETE", "/api/articles/some-slug"),
    ("POST", "/api/articles/some-slug/favorite"),
    ("DELETE", "/api/articles/some-slug/favorite"),
    ("POST", "/api/articles/some-slug/comments"),
    ("DELETE", "/api/articles/some-slug/comments/1"),
    ("GET", "/api/articles/feed"),
]


@pytest.mark.parametrize("method, path", WRITES)
def test_routes_that_need_a_user_answer_401_without_a_token(client, method, path):
    result = client.simulate_request(method, path, json={})
    assert result.status_code == 401
    assert result.json["errors"]["body"]


def test_a_bad_token_is_401_even_on_a_public_route(client):
    result = client.simulate_get("/api/articles", headers={"Authorization": "Token nonsense"})
    assert result.status_code == 401


@pytest.mark.parametrize("field", ["title", "description", "body"])
def test_each_required_article_field_is_a_422_on_that_field(client, make_user, field):
    article = {"title": "t", "description": "d", "body": "b"}
    del article[field]
    result = client.simulate_post("/api/articles", json={"article": article},
                                  headers=make_user("jake").headers)
    assert result.status_code == 422
    assert f"{field} can't be blank" in result.json["errors"]["body"]


@pytest.mark.parametrize("payload", [
    None, {}, {"article": None}, {"article": "text"}, [1, 2],
    {"article": {"title": "  ", "description": "d", "body": "b"}},
    {"article": {"title": 5, "description": "d", "body": "b"}},
    {"article": {"title": "t", "description": "d", "body": "b", "tagList": "dragons"}},
    {"article": {"title": "t", "description": "d", "body": "b", "tagList": [1]}},
    {"article": {"title": "x" * 256, "description": "d", "body": "b"}},
])
def test_malformed_new_articles_are_422(client, make_user, payload):
    result = client.simulate_post("/api/articles", json=payload,
                                  headers=make_user("jake").headers)
    assert result.status_code == 422
    assert result.json["errors"]["body"]


def test_malformed_json_is_400(client, make_user):
    headers = {**make_user("jake").headers, "Content-Type": "application/json"}
    result = client.simulate_post("/api/articles", body="{not json", headers=headers)
    assert result.status_code == 400


def test_update_with_a_blank_title_is_422(client, make_user, post_article):
    jake = make_user("jake")
    article = post_article(jake)
    result = client.simulate_put(f"/api/articles/{article['slug']}", headers=jake.headers,
                                 json={"article": {"title": ""}})
    assert result.status_code == 422
    assert result.json["errors"]["title"] == ["can't be blank"]


def test_comment_without_body_is_422(client, make_user, post_article):
    jake = make_user("jake")
    article = post_article(jake)
    result = client.simulate_post(f"/api/articles/{article['slug']}/comments",
                                  headers=jake.headers, json={"comment": {}})
    assert result.status_code == 422


@pytest.mark.parametrize("query", [
    "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=2.5", "offset=-1", "offset=x",
    "limit=1&limit=2",
])
def test_bad_paging_values_are_422_on_the_list_and_the_feed(client, make_user, query):
    assert client.simulate_get("/api/articles", query_string=query).status_code == 422
    result = client.simulate_get("/api/articles/feed", query_string=query,
                                 headers=make_user("jake").headers)
    assert result.status_code == 422
    field = query.split("=")[0]
    assert field in result.json["errors"]


def test_comment_id_that_is_not_a_number_is_404(client, make_user):
    result = client.simulate_delete("/api/articles/s/comments/abc",
                                    headers=make_user("jake").headers)
    assert result.status_code == 404


def test_comment_id_beyond_bigint_is_404_not_500(client, make_user):
    result = client.simulate_delete("/api/articles/s/comments/99999999999999999999",
                                    headers=make_user("jake").headers)
    assert result.status_code == 404


@pytest.mark.parametrize("field, value", [
    ("title", "drag\x00ons"), ("description", "\x00"), ("body", "a\x00"),
    ("tagList", ["fine", "nul\x00tag"]),
])
def test_a_nul_character_in_an_article_is_422_and_nothing_is_written(
        client, make_user, field, value):
    # Postgres cannot store U+0000; it was a 500 before the edge refused it.
    jake = make_user("jake")
    article = {"title": "t", "description": "d", "body": "b", field: value}
    result = client.simulate_post("/api/articles", json={"article": article},
                                  headers=jake.headers)
    assert result.status_code == 422
    # The sentence is always under "body" (the field `body` shares that key).
    assert f"{field} must not contain NUL characters" in result.json["errors"]["body"]
    assert client.simulate_get("/api/articles").json["articlesCount"] == 0


def test_a_nul_character_in_a_comment_or_an_update_is_422(client, make_user, post_article):
    jake = make_user("jake")
    slug = post_article(jake)["slug"]
    comment = client.simulate_post(f"/api/articles/{slug}/comments", headers=jake.headers,
                                   json={"comment": {"body": "hi\x00"}})
    update = client.simulate_put(f"/api/articles/{slug}", headers=jake.headers,
                                 json={"article": {"title": "new\x00title"}})
    assert (comment.status_code, update.status_code) == (422, 422)
    assert client.simulate_get(f"/api/articles/{slug}/comments").json["comments"] == []
    assert client.simulate_get(f"/api/articles/{slug}").json["article"]["title"] == (
        "How to train your dragon")


@pytest.mark.parametrize("path, query", [
    ("/api/articles/some%00slug", None), ("/api/articles/some%00slug/comments", None),
    ("/api/articles", "tag=a%00b"), ("/api/articles", "author=ja%00ke"),
    ("/api/articles", "favorited=%00"),
])
def test_a_nul_character_in_the_url_is_400_before_any_query(client, engine, path, query):
    with counting_statements(engine) as log:
        result = client.simulate_get(path, query_string=query)
    assert result.status_code == 400
    assert result.json["errors"]["body"] == ["the URL must not contain NUL (%00) characters"]
    assert log.count == 0, log


@pytest.mark.parametrize("tag", ["two\nlines", "tab\there", "bell\x07"])
def test_a_tag_with_a_control_character_is_422(client, make_user, tag):
    result = client.simulate_post("/api/articles", headers=make_user("jake").headers, json={
        "article": {"title": "t", "description": "d", "body": "b", "tagList": ["ok", tag]}})

    assert result.status_code == 422
    assert "must not contain control characters" in str(result.json["errors"])

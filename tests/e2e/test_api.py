"""Every endpoint group once, through the gateway."""


def test_users_register_login_read_and_update_themselves(api):
    user = api.register()
    login = api.request("POST", "/users/login",
                        json={"user": {"email": user.email, "password": user.password}})
    assert login.status_code == 200
    token = login.json()["user"]["token"]
    assert api.request("GET", "/user", token).json()["user"]["username"] == user.username
    updated = api.request("PUT", "/user", token, json={"user": {"bio": "e2e bio"}})
    assert updated.status_code == 200 and updated.json()["user"]["bio"] == "e2e bio"


def test_the_current_user_needs_a_token(api):
    resp = api.request("GET", "/user")
    assert resp.status_code == 401
    assert resp.json()["errors"]["body"]


def test_profiles_can_be_read_followed_and_unfollowed(api):
    reader, writer = api.register("reader"), api.register("writer")
    path = f"/profiles/{writer.username}"
    assert api.request("GET", path).json()["profile"]["following"] is False
    followed = api.request("POST", path + "/follow", reader.token)
    assert followed.status_code == 200 and followed.json()["profile"]["following"] is True
    assert api.request("GET", path, reader.token).json()["profile"]["following"] is True
    unfollowed = api.request("DELETE", path + "/follow", reader.token)
    assert unfollowed.json()["profile"]["following"] is False


def test_articles_are_created_listed_fed_updated_favorited_and_deleted(api):
    reader, writer = api.register("reader"), api.register("writer")
    article = api.create_article(writer, tagList=["e2e-tag", "dragons"])
    slug = article["slug"]
    assert article["tagList"] == ["dragons", "e2e-tag"]
    by_author = api.request("GET", f"/articles?author={writer.username}").json()
    assert [a["slug"] for a in by_author["articles"]] == [slug]
    assert by_author["articlesCount"] == 1
    api.request("POST", f"/profiles/{writer.username}/follow", reader.token)
    feed = api.request("GET", "/articles/feed", reader.token).json()
    assert slug in [a["slug"] for a in feed["articles"]]
    updated = api.request("PUT", f"/articles/{slug}", writer.token,
                          json={"article": {"body": "new body"}})
    assert updated.json()["article"]["body"] == "new body"
    favorited = api.request("POST", f"/articles/{slug}/favorite", reader.token).json()
    assert favorited["article"]["favorited"] is True
    assert favorited["article"]["favoritesCount"] == 1
    unfavorited = api.request("DELETE", f"/articles/{slug}/favorite", reader.token).json()
    assert unfavorited["article"]["favoritesCount"] == 0
    assert api.request("DELETE", f"/articles/{slug}", reader.token).status_code == 403
    assert api.request("DELETE", f"/articles/{slug}", writer.token).status_code == 204
    assert api.request("GET", f"/articles/{slug}").status_code == 404


def test_comments_are_added_listed_and_deleted(api):
    author, commenter = api.register("author"), api.register("commenter")
    slug = api.create_article(author)["slug"]
    created = api.request("POST", f"/articles/{slug}/comments", commenter.token,
                          json={"comment": {"body": "nice"}})
    assert created.status_code in (200, 201)
    comment = created.json()["comment"]
    assert comment["author"]["username"] == commenter.username
    listed = api.request("GET", f"/articles/{slug}/comments").json()["comments"]
    assert [c["id"] for c in listed] == [comment["id"]]
    deleted = api.request("DELETE", f"/articles/{slug}/comments/{comment['id']}", commenter.token)
    assert deleted.status_code == 204
    assert api.request("GET", f"/articles/{slug}/comments").json()["comments"] == []


def test_tags_list_the_tags_in_use(api):
    author = api.register()
    api.create_article(author, tagList=["e2e-tags-endpoint"])
    assert "e2e-tags-endpoint" in api.request("GET", "/tags").json()["tags"]


def test_service_errors_pass_through_the_gateway_unchanged(api):
    resp = api.request("GET", "/articles/no-such-article-e2e")
    assert resp.status_code == 404
    assert resp.json()["errors"]["body"]
    resp = api.request("POST", "/users", data=b"{not json",
                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 400

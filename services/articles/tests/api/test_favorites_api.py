"""Favorite and unfavorite: idempotent, 200 with the article, counted exactly."""


def favorite(client, user, slug, method="POST"):
    return client.simulate_request(method, f"/api/articles/{slug}/favorite", headers=user.headers)


def test_favorite_returns_the_article_favorited_with_its_count(client, make_user, post_article):
    article = post_article(make_user("jake"))
    result = favorite(client, make_user("ann"), article["slug"])
    assert result.status_code == 200
    assert (result.json["article"]["favorited"], result.json["article"]["favoritesCount"]) == (
        True, 1)
    assert result.json["article"]["body"] == "Very carefully."


def test_favoriting_twice_is_idempotent(client, make_user, post_article):
    article, ann = post_article(make_user("jake")), make_user("ann")
    favorite(client, ann, article["slug"])
    result = favorite(client, ann, article["slug"])
    assert result.json["article"]["favoritesCount"] == 1


def test_favorites_of_different_users_add_up(client, make_user, post_article):
    article = post_article(make_user("jake"))
    for name in ("ann", "bob", "cat"):
        result = favorite(client, make_user(name), article["slug"])
    assert result.json["article"]["favoritesCount"] == 3


def test_unfavorite_answers_200_and_twice_is_harmless(client, make_user, post_article):
    article, ann = post_article(make_user("jake")), make_user("ann")
    favorite(client, ann, article["slug"])
    for _ in range(2):
        result = favorite(client, ann, article["slug"], method="DELETE")
        assert result.status_code == 200
        assert (result.json["article"]["favorited"],
                result.json["article"]["favoritesCount"]) == (False, 0)


def test_favorite_of_an_unknown_article_is_404(client, make_user):
    assert favorite(client, make_user("ann"), "nope").status_code == 404
    assert favorite(client, make_user("bob"), "nope", method="DELETE").status_code == 404


def test_favorited_filter_lists_what_a_user_liked(client, make_user, post_article):
    jake, ann = make_user("jake"), make_user("ann")
    liked = post_article(jake, title="Liked")
    post_article(jake, title="Ignored")
    favorite(client, ann, liked["slug"])
    result = client.simulate_get("/api/articles", query_string="favorited=ann")
    assert [a["slug"] for a in result.json["articles"]] == [liked["slug"]]

"""A client's write is visible on its very next request to any service, with no sleep.

Owners publish events in the write's transaction and answer only once the live
consumers have applied them (bounded by CONSISTENCY_WAIT_SECONDS), so each check
below follows its write immediately.
"""
import time

import pytest

# Each case is repeated: one lucky ordering must not pass the test.
ROUNDS = 5


def profile(api, username, token=None):
    return api.request("GET", f"/profiles/{username}", token)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_new_user_has_a_profile_at_once(api, round_):
    user = api.register("ryw")

    resp = profile(api, user.username)

    assert resp.status_code == 200, resp.text
    assert resp.json()["profile"]["username"] == user.username


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_rename_is_seen_by_profiles_and_by_the_author_filter_at_once(api, round_):
    user = api.register("ryw")
    api.create_article(user)
    new_name = user.username + "n"

    renamed = api.request("PUT", "/user", user.token, json={"user": {"username": new_name}})
    by_new_name = profile(api, new_name)
    by_old_name = profile(api, user.username)
    articles = api.request("GET", "/articles", params={"author": new_name}).json()

    assert renamed.status_code == 200, renamed.text
    assert by_new_name.status_code == 200 and by_old_name.status_code == 404
    assert articles["articlesCount"] == 1
    assert articles["articles"][0]["author"]["username"] == new_name


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_follow_then_unfollow_shows_in_the_feed_and_flags_at_once(api, round_):
    author, reader = api.register("ryw"), api.register("ryw")
    article = api.create_article(author)

    assert api.request("POST", f"/profiles/{author.username}/follow", reader.token).ok
    feed = api.request("GET", "/articles/feed", reader.token).json()
    single = api.request("GET", f"/articles/{article['slug']}", reader.token).json()
    assert [a["slug"] for a in feed["articles"]] == [article["slug"]]
    assert feed["articlesCount"] == 1
    assert single["article"]["author"]["following"] is True

    assert api.request("DELETE", f"/profiles/{author.username}/follow", reader.token).ok
    feed = api.request("GET", "/articles/feed", reader.token).json()
    single = api.request("GET", f"/articles/{article['slug']}", reader.token).json()
    assert feed == {"articles": [], "articlesCount": 0}
    assert single["article"]["author"]["following"] is False


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_bio_change_shows_on_the_authors_articles_at_once(api, round_):
    author = api.register("ryw")
    article = api.create_article(author)

    api.request("PUT", "/user", author.token, json={"user": {"bio": f"bio {round_}"}})
    single = api.request("GET", f"/articles/{article['slug']}").json()
    listed = api.request("GET", "/articles", params={"author": author.username}).json()

    assert single["article"]["author"]["bio"] == f"bio {round_}"
    assert listed["articles"][0]["author"]["bio"] == f"bio {round_}"


def eventually_unauthorized(api, method, path, token, seconds=3.0):
    """profiles and articles trust a looked-up token version for up to 1 s."""
    deadline = time.monotonic() + seconds
    while True:
        status = api.request(method, path, token).status_code
        if status == 401 or time.monotonic() > deadline:
            return status == 401
        time.sleep(0.1)


def test_a_password_change_revokes_older_tokens_in_every_service(api):
    user = api.register("revoke")
    old_token = user.token
    changed = api.request("PUT", "/user", old_token, json={"user": {
        "password": "a-brand-new-password", "currentPassword": user.password}})
    new_token = changed.json()["user"]["token"]

    assert changed.status_code == 200
    assert api.request("GET", "/user", old_token).status_code == 401      # auth: at once
    assert eventually_unauthorized(api, "GET", "/articles/feed", old_token)
    assert eventually_unauthorized(api, "POST", f"/profiles/{user.username}/follow", old_token)
    assert api.request("GET", "/articles/feed", new_token).status_code == 200
    assert api.request("GET", "/user", new_token).status_code == 200


def test_logout_ends_every_session_of_the_user(api):
    user = api.register("logout")

    result = api.request("POST", "/user/logout", user.token)

    assert result.status_code == 204
    assert api.request("GET", "/user", user.token).status_code == 401
    assert eventually_unauthorized(api, "GET", "/articles/feed", user.token)

"""Articles fed by the real auth and profiles: their feeds as the articles projector reads them."""
import pytest
import requests

from conduit_common.testing.keys import service_env
from conduit_common.testing.processes import gunicorn_service

pytestmark = pytest.mark.slow


def create(articles, user, title, tags=("dragons",)):
    result = articles.simulate_post("/api/articles", headers=user["headers"], json={"article": {
        "title": title, "description": "d", "body": "b", "tagList": list(tags)}})
    assert result.status_code == 201, result.json
    return result.json["article"]


def test_new_article_carries_the_profile_auth_published(articles, register, auth_url, catch_up):
    jake = register("jake")
    requests.put(f"{auth_url}/api/user", headers=jake["headers"], timeout=10,
                 json={"user": {"bio": "dragon tamer"}}).raise_for_status()
    catch_up()

    article = create(articles, jake, "Dragons")

    assert article["author"] == {"username": jake["username"], "bio": "dragon tamer",
                                 "image": None, "following": False}


def test_author_and_favorited_filters_resolve_names_from_the_read_model(
        articles, register, catch_up):
    jake, ann = register("jake"), register("ann")
    catch_up()
    wanted = create(articles, jake, "Wanted")
    create(articles, jake, "Unloved")
    articles.simulate_post(f"/api/articles/{wanted['slug']}/favorite", headers=ann["headers"])

    result = articles.simulate_get("/api/articles", query_string=(
        f"author={jake['username'].upper()}&favorited={ann['username']}"))

    assert result.status_code == 200
    assert [a["slug"] for a in result.json["articles"]] == [wanted["slug"]]
    assert result.json["articles"][0]["favoritesCount"] == 1


def test_feed_uses_follows_from_profiles_and_shows_following(
        articles, register, follow, catch_up):
    jake, ann, bob = register("jake"), register("ann"), register("bob")
    catch_up()
    followed = create(articles, jake, "Followed")
    create(articles, bob, "Not followed")
    follow(ann, jake)
    catch_up()

    result = articles.simulate_get("/api/articles/feed", headers=ann["headers"])

    assert [a["slug"] for a in result.json["articles"]] == [followed["slug"]]
    assert result.json["articlesCount"] == 1
    assert result.json["articles"][0]["author"]["following"] is True


def test_comments_show_each_author_as_the_viewer_sees_them(articles, register, follow, catch_up):
    jake, ann = register("jake"), register("ann")
    catch_up()
    article = create(articles, jake, "Talk")
    follow(ann, jake)
    catch_up()
    for user, body in ((jake, "first"), (ann, "second")):
        result = articles.simulate_post(f"/api/articles/{article['slug']}/comments",
                                        headers=user["headers"], json={"comment": {"body": body}})
        assert result.status_code == 201

    comments = articles.simulate_get(f"/api/articles/{article['slug']}/comments",
                                     headers=ann["headers"]).json["comments"]

    assert [(c["body"], c["author"]["username"], c["author"]["following"]) for c in comments] == [
        ("second", ann["username"], False), ("first", jake["username"], True)]


def test_articles_runs_under_gunicorn_with_its_wsgi_entry(
        articles_database_url, register, catch_up):
    jake = register("jake")
    catch_up()
    env = {**service_env("articles"), "DATABASE_URL": articles_database_url,
           "LOG_LEVEL": "WARNING"}
    with gunicorn_service("articles", env) as url:
        created = requests.post(f"{url}/api/articles", headers=jake["headers"], timeout=10,
                                json={"article": {"title": "Served", "description": "d",
                                                  "body": "b", "tagList": ["b", "a"]}})
        listed = requests.get(f"{url}/api/articles", params={"author": jake["username"]},
                              timeout=10)
    assert created.status_code == 201, created.text
    assert listed.json()["articlesCount"] == 1
    assert listed.json()["articles"][0]["tagList"] == ["a", "b"]

"""A peer that refuses or is too slow turns into a 503 in the error shape, in time."""
import time

import pytest
from falcon import testing

from conduit_articles.app import create_app
from conduit_articles.config import ArticlesSettings

TIMEOUT = 0.3
# Time budget of a request whose peer hangs: the read timeout plus generous slack.
DEADLINE = TIMEOUT + 0.7


def app_with_peers(articles_database_url, engine, auth_url, profiles_url):
    settings = ArticlesSettings(secret="articles-tests-secret-0123456789abcdef",
                                database_url=articles_database_url, auth_service_url=auth_url,
                                profiles_service_url=profiles_url,
                                downstream_timeout_seconds=TIMEOUT)
    return testing.TestClient(create_app(settings, engine=engine))


def timed_get(client, path, **kwargs):
    started = time.monotonic()
    result = client.simulate_get(path, **kwargs)
    return result, time.monotonic() - started


@pytest.mark.parametrize("peer", ["hanging_peer_url", "refused_url"])
def test_auth_down_or_slow_makes_author_filter_503_in_time(
        request, peer, articles_database_url, engine, refused_url):
    auth_url = request.getfixturevalue(peer)
    client = app_with_peers(articles_database_url, engine, auth_url, refused_url)
    result, elapsed = timed_get(client, "/api/articles", query_string="author=jake")
    assert result.status_code == 503
    assert result.json == {"errors": {"body": ["auth service is unavailable, try again later"]}}
    assert elapsed < DEADLINE


@pytest.mark.parametrize("peer", ["hanging_peer_url", "refused_url"])
def test_profiles_down_or_slow_makes_a_list_503_in_time(
        request, peer, articles_database_url, engine, seed_article, refused_url):
    seed_article()
    profiles_url = request.getfixturevalue(peer)
    client = app_with_peers(articles_database_url, engine, refused_url, profiles_url)
    result, elapsed = timed_get(client, "/api/articles")
    assert result.status_code == 503
    assert result.json["errors"]["body"] == ["profiles service is unavailable, try again later"]
    assert elapsed < DEADLINE


def test_profiles_down_leaves_no_article_behind(
        articles_database_url, engine, refused_url, make_user):
    client = app_with_peers(articles_database_url, engine, refused_url, refused_url)
    jake = make_user("jake")
    result = client.simulate_post("/api/articles", headers=jake.headers, json={"article": {
        "title": "Lost", "description": "d", "body": "b"}})
    assert result.status_code == 503
    assert client.simulate_get("/api/articles/lost").status_code == 404


def test_lists_that_need_no_peer_work_while_peers_are_down(
        articles_database_url, engine, refused_url):
    client = app_with_peers(articles_database_url, engine, refused_url, refused_url)
    result = client.simulate_get("/api/articles")
    assert result.status_code == 200
    assert result.json == {"articles": [], "articlesCount": 0}

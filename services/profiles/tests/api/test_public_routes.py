"""/api/profiles routes through the real app and database (users from the read model)."""
import pytest

from conduit_common.db import SessionManager
from conduit_common.events.users import upsert_users
from conduit_common.testing.counting import counting_statements
from conduit_profiles.models import USERS


@pytest.fixture
def jake(seed_user):
    return seed_user(1, "jake", bio="I work at statefarm", image="https://i.example/j.png")


@pytest.fixture
def anna(seed_user):
    return seed_user(2, "anna")


def test_anonymous_reader_sees_a_profile_not_followed(client, jake):
    result = client.simulate_get("/api/profiles/jake")

    assert result.status_code == 200
    assert result.json == {"profile": {"username": "jake", "bio": "I work at statefarm",
                                       "image": "https://i.example/j.png", "following": False}}


def test_profile_lookup_ignores_the_case_of_the_name(client, jake):
    result = client.simulate_get("/api/profiles/JAKE")

    assert result.json["profile"]["username"] == "jake"


def test_unknown_profile_is_404_in_the_error_shape(client):
    result = client.simulate_get("/api/profiles/nobody")

    assert result.status_code == 404
    assert result.json == {"errors": {"body": ["profile not found"]}}


@pytest.mark.parametrize("path", ["/api/profiles/ja%00ke", "/api/profiles/ja%00ke/follow"])
def test_a_nul_character_in_the_username_is_400(client, jake, path):
    # Postgres cannot hold NUL: it would fail the query, a 5xx.
    result = client.simulate_get(path)

    assert result.status_code == 400
    assert result.json == {"errors": {"body": ["the URL must not contain NUL (%00) characters"]}}


def test_bad_token_on_the_optional_route_is_401(client, jake):
    result = client.simulate_get("/api/profiles/jake", headers={"Authorization": "Token nope"})

    assert result.status_code == 401


def test_follow_answers_the_followed_profile(client, jake, anna, token_for):
    result = client.simulate_post("/api/profiles/jake/follow",
                                  headers={"Authorization": token_for(anna)})

    assert result.status_code == 200
    assert result.json["profile"] == {"username": "jake", "bio": "I work at statefarm",
                                      "image": "https://i.example/j.png", "following": True}


def test_follower_then_sees_following_on_the_profile(client, jake, anna, token_for):
    auth = {"Authorization": token_for(anna)}
    client.simulate_post("/api/profiles/jake/follow", headers=auth)

    assert client.simulate_get("/api/profiles/jake", headers=auth).json["profile"]["following"]
    assert not client.simulate_get("/api/profiles/jake").json["profile"]["following"]


def test_following_twice_answers_200_both_times(client, jake, anna, token_for):
    auth = {"Authorization": token_for(anna)}

    first = client.simulate_post("/api/profiles/jake/follow", headers=auth)
    second = client.simulate_post("/api/profiles/jake/follow", headers=auth)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json["profile"]["following"]


def test_unfollow_answers_the_profile_no_longer_followed(client, jake, anna, token_for):
    auth = {"Authorization": token_for(anna)}
    client.simulate_post("/api/profiles/jake/follow", headers=auth)

    result = client.simulate_delete("/api/profiles/jake/follow", headers=auth)

    assert result.status_code == 200
    assert result.json["profile"]["following"] is False
    assert not client.simulate_get("/api/profiles/jake", headers=auth).json["profile"]["following"]


def test_unfollowing_someone_not_followed_is_200(client, jake, anna, token_for):
    result = client.simulate_delete("/api/profiles/jake/follow",
                                    headers={"Authorization": token_for(anna)})

    assert result.status_code == 200
    assert result.json["profile"]["following"] is False


def test_following_yourself_is_422(client, jake, token_for):
    result = client.simulate_post("/api/profiles/jake/follow",
                                  headers={"Authorization": token_for(jake)})

    assert result.status_code == 422
    assert result.json == {"errors": {"body": ["you cannot follow yourself"]}}


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_following_an_unknown_user_is_404(client, anna, token_for, method):
    result = client.simulate_request(method, "/api/profiles/nobody/follow",
                                     headers={"Authorization": token_for(anna)})

    assert result.status_code == 404


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_follow_routes_need_a_token(client, jake, method):
    result = client.simulate_request(method, "/api/profiles/jake/follow")

    assert result.status_code == 401
    assert result.json["errors"]["body"]


def test_bearer_scheme_is_accepted_too(client, jake, anna, token_for):
    bearer = token_for(anna).replace("Token ", "Bearer ")

    result = client.simulate_post("/api/profiles/jake/follow", headers={"Authorization": bearer})

    assert result.status_code == 200


def test_a_profile_is_one_statement(client, jake, anna, token_for, engine):
    client.simulate_get("/api/profiles/jake", headers={"Authorization": token_for(anna)})
    with counting_statements(engine) as log:   # anna's token check is cached now
        result = client.simulate_get("/api/profiles/jake",
                                     headers={"Authorization": token_for(anna)})

    assert result.status_code == 200
    assert log.count == 1, log


def test_a_renamed_user_is_found_by_the_new_name_only(client, seed_user, engine):
    seed_user(1, "jake")
    with SessionManager(engine).session() as session:
        upsert_users(session, USERS, [{"id": 1, "username": "jacob", "bio": None, "image": None,
                                       "version": 2, "token_version": 0}])

    assert client.simulate_get("/api/profiles/jacob").status_code == 200
    assert client.simulate_get("/api/profiles/jake").status_code == 404

"""Profiles calling the real auth service: every route that needs auth, end to end."""
import requests
import pytest

from conduit_common.testing.processes import gunicorn_service

pytestmark = pytest.mark.slow


def _auth(user: dict) -> dict:
    return {"Authorization": f"Token {user['token']}"}


def test_profile_of_a_registered_user_comes_from_auth(profiles, register):
    jake = register("jake")

    result = profiles.simulate_get(f"/api/profiles/{jake['username']}")

    assert result.status_code == 200
    assert result.json == {"profile": {"username": jake["username"], "bio": None,
                                       "image": None, "following": False}}


def test_profile_lookup_through_auth_ignores_case(profiles, register):
    jake = register("Jake")

    result = profiles.simulate_get(f"/api/profiles/{jake['username'].upper()}")

    assert result.json["profile"]["username"] == jake["username"]


def test_unregistered_name_is_404(profiles, register):
    register("someone")

    assert profiles.simulate_get("/api/profiles/never-registered").status_code == 404


def test_profile_shows_what_the_user_last_saved_in_auth(profiles, register, auth_url):
    jake = register("jake")
    requests.put(f"{auth_url}/api/user", headers=_auth(jake), timeout=10,
                 json={"user": {"bio": "I like to skateboard"}}).raise_for_status()

    result = profiles.simulate_get(f"/api/profiles/{jake['username']}")

    assert result.json["profile"]["bio"] == "I like to skateboard"


def test_follow_and_unfollow_with_a_token_issued_by_auth(profiles, register):
    jake, anna = register("jake"), register("anna")
    path = f"/api/profiles/{jake['username']}"

    followed = profiles.simulate_post(f"{path}/follow", headers=_auth(anna))
    seen = profiles.simulate_get(path, headers=_auth(anna))
    unfollowed = profiles.simulate_delete(f"{path}/follow", headers=_auth(anna))

    assert (followed.status_code, unfollowed.status_code) == (200, 200)
    assert followed.json["profile"]["following"] is True
    assert seen.json["profile"]["following"] is True
    assert unfollowed.json["profile"]["following"] is False
    assert profiles.simulate_get(path, headers=_auth(anna)).json["profile"]["following"] is False


def test_following_yourself_is_422_with_a_real_token(profiles, register):
    jake = register("jake")

    result = profiles.simulate_post(f"/api/profiles/{jake['username']}/follow",
                                    headers=_auth(jake))

    assert result.status_code == 422


def test_internal_batch_resolves_users_in_one_call_to_auth(profiles, register, auth_http):
    viewer, *others = [register(name) for name in ("viewer", "a", "b", "c")]
    profiles.simulate_post(f"/api/profiles/{others[1]['username']}/follow", headers=_auth(viewer))
    ids = [u["id"] for u in others] + [10**12]
    query = "&".join(f"id={i}" for i in ids) + f"&viewer={viewer['id']}"
    sent_before = auth_http.sent

    result = profiles.simulate_get("/internal/profiles", query_string=query)

    assert auth_http.sent - sent_before == 1
    assert result.json == {"profiles": [
        {"id": u["id"], "username": u["username"], "bio": None, "image": None,
         "following": u is others[1]} for u in others]}


def test_internal_following_lists_whom_a_user_follows(profiles, register):
    viewer, a, b = register("viewer"), register("a"), register("b")
    for user in (b, a):
        profiles.simulate_post(f"/api/profiles/{user['username']}/follow", headers=_auth(viewer))

    result = profiles.simulate_get("/internal/following", query_string=f"follower={viewer['id']}")

    assert result.json == {"ids": sorted([a["id"], b["id"]])}


def test_profiles_under_gunicorn_reads_its_config_from_the_environment(
        profiles_database_url, auth_url, secret, register, engine):
    anna, jake = register("anna"), register("jake")
    env = {"CONDUIT_SECRET": secret, "DATABASE_URL": profiles_database_url,
           "AUTH_SERVICE_URL": auth_url, "LOG_LEVEL": "WARNING"}

    with gunicorn_service("profiles", env) as url:
        followed = requests.post(f"{url}/api/profiles/{jake['username']}/follow",
                                 headers=_auth(anna), timeout=10)
        batch = requests.get(f"{url}/internal/profiles", timeout=10,
                             params={"id": [jake["id"]], "viewer": anna["id"]})

    assert followed.status_code == 200
    assert followed.json()["profile"]["following"] is True
    assert batch.json()["profiles"][0]["following"] is True

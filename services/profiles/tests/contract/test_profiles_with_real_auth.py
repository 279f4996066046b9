"""Profiles fed by the real auth service: auth's feed and snapshot as profiles reads them."""
import pytest
import requests

pytestmark = pytest.mark.slow


def _auth(user: dict) -> dict:
    return {"Authorization": f"Token {user['token']}"}


def test_a_registered_user_reaches_the_profile_through_the_projector(
        profiles, register, catch_up):
    jake = register("jake")

    catch_up()
    result = profiles.simulate_get(f"/api/profiles/{jake['username']}")

    assert result.status_code == 200
    assert result.json == {"profile": {"username": jake["username"], "bio": None,
                                       "image": None, "following": False}}


def test_the_profile_shows_what_the_user_last_saved_in_auth(
        profiles, register, auth_url, catch_up):
    jake = register("jake")
    catch_up()
    for bio in ("first", "I like to skateboard"):
        requests.put(f"{auth_url}/api/user", headers=_auth(jake), timeout=10,
                     json={"user": {"bio": bio}}).raise_for_status()

    catch_up()

    assert profiles.simulate_get(
        f"/api/profiles/{jake['username']}").json["profile"]["bio"] == "I like to skateboard"


def test_a_rename_moves_the_profile_to_the_new_name(profiles, register, auth_url, catch_up):
    jake = register("jake")
    new_name = jake["username"] + "x"
    requests.put(f"{auth_url}/api/user", headers=_auth(jake), timeout=10,
                 json={"user": {"username": new_name}}).raise_for_status()

    catch_up()

    assert profiles.simulate_get(f"/api/profiles/{new_name}").status_code == 200
    assert profiles.simulate_get(f"/api/profiles/{jake['username']}").status_code == 404


def test_follow_and_unfollow_with_a_token_issued_by_auth(profiles, register, catch_up):
    jake, anna = register("jake"), register("anna")
    catch_up()
    path = f"/api/profiles/{jake['username']}/follow"

    followed = profiles.simulate_post(path, headers=_auth(anna))
    unfollowed = profiles.simulate_delete(path, headers=_auth(anna))

    assert (followed.status_code, followed.json["profile"]["following"]) == (200, True)
    assert (unfollowed.status_code, unfollowed.json["profile"]["following"]) == (200, False)


def test_readiness_waits_for_the_projection_to_catch_up(profiles, register, catch_up):
    register("jake")
    assert profiles.simulate_get("/readyz").status_code == 503

    catch_up()

    assert profiles.simulate_get("/readyz").status_code == 200

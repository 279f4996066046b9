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


def test_real_auth_refuses_its_internal_api_without_a_trusted_service_token(auth_url, engine,
                                                                            profiles_database_url):
    from conduit_common.config import Env
    from conduit_common.http import PeerRefused
    from conduit_common.keys import SigningKey
    from conduit_profiles import projector

    assert requests.get(f"{auth_url}/internal/events", params={"consumer": "profiles"},
                        timeout=10).status_code == 401
    # A projector whose key auth was never told about: every read is refused.
    projectors, _, own_engine = projector.build(Env({
        "DATABASE_URL": profiles_database_url, "AUTH_SERVICE_URL": auth_url,
        "SERVICE_PRIVATE_KEY": SigningKey.generate("profiles").pem()}))
    try:
        with pytest.raises(PeerRefused) as refused:
            projectors[0].source.snapshot(None, 10)
        assert refused.value.status == 401
    finally:
        own_engine.dispose()

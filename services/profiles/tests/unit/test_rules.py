"""The follow rules, with the users read model and the follows table faked in memory."""
import pytest

from conduit_common.errors import NotFound, Unprocessable
from conduit_profiles import services


def test_profile_of_a_stranger_is_not_followed(fake_profiles, fake_follows):
    jake = fake_profiles.add(1, "jake", bio="I work at statefarm", image="https://i.example/j.png")

    profile = services.get_profile(fake_profiles, "jake", viewer_id=None)

    assert (profile.username, profile.bio, profile.image, profile.following) == (
        jake.username, "I work at statefarm", "https://i.example/j.png", False)


def test_profile_shows_following_for_a_follower(fake_profiles, fake_follows):
    fake_profiles.add(1, "jake")
    fake_follows.follow(2, 1)

    assert services.get_profile(fake_profiles, "jake", viewer_id=2).following
    assert not services.get_profile(fake_profiles, "jake", viewer_id=3).following


def test_username_lookup_ignores_case(fake_profiles, fake_follows):
    fake_profiles.add(1, "Jake")

    assert services.get_profile(fake_profiles, "jAKE", viewer_id=None).username == "Jake"


def test_unknown_username_is_not_found(fake_profiles, fake_follows):
    with pytest.raises(NotFound):
        services.get_profile(fake_profiles, "nobody", viewer_id=None)


def test_follow_records_the_pair_and_returns_a_followed_profile(fake_profiles, fake_follows):
    fake_profiles.add(1, "jake")

    profile = services.follow(fake_profiles, fake_follows, "jake", follower_id=2)

    assert profile.following
    assert fake_follows.pairs == {(2, 1)}


def test_following_twice_is_the_same_as_once(fake_profiles, fake_follows):
    fake_profiles.add(1, "jake")

    services.follow(fake_profiles, fake_follows, "jake", follower_id=2)
    profile = services.follow(fake_profiles, fake_follows, "jake", follower_id=2)

    assert profile.following
    assert fake_follows.pairs == {(2, 1)}


def test_following_yourself_is_refused(fake_profiles, fake_follows):
    fake_profiles.add(1, "jake")

    with pytest.raises(Unprocessable):
        services.follow(fake_profiles, fake_follows, "jake", follower_id=1)
    assert fake_follows.pairs == set()


def test_following_an_unknown_user_is_not_found(fake_profiles, fake_follows):
    with pytest.raises(NotFound):
        services.follow(fake_profiles, fake_follows, "nobody", follower_id=1)


def test_unfollow_removes_the_pair_and_is_idempotent(fake_profiles, fake_follows):
    fake_profiles.add(1, "jake")
    fake_follows.follow(2, 1)

    first = services.unfollow(fake_profiles, fake_follows, "jake", follower_id=2)
    second = services.unfollow(fake_profiles, fake_follows, "jake", follower_id=2)

    assert not first.following and not second.following
    assert fake_follows.pairs == set()


def test_unfollowing_an_unknown_user_is_not_found(fake_profiles, fake_follows):
    with pytest.raises(NotFound):
        services.unfollow(fake_profiles, fake_follows, "nobody", follower_id=1)

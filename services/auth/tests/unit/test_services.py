"""The rules of AccountService, on an in-memory repository."""
import pytest

from conduit_common.errors import Unauthorized, Unprocessable


def test_registration_returns_the_account_with_a_token_for_the_new_user(service, users, codec):
    account = service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    assert (account.username, account.email, account.bio, account.image) == (
        "jake", "jake@jake.jake", None, None)
    identity = codec.verify(account.token)
    assert identity.user_id == users.by_email("jake@jake.jake").id
    assert identity.username == "jake"


def test_registration_stores_an_argon2id_hash_not_the_password(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    stored = users.by_email("jake@jake.jake").password_hash
    assert stored.startswith("$argon2id$")
    assert "jakejakejake" not in stored


def test_registration_rejects_a_username_taken_in_another_case(service, users):
    service.register(users, "Jake", "jake@jake.jake", "jakejakejake")

    with pytest.raises(Unprocessable) as caught:
        service.register(users, "jAKE", "other@jake.jake", "jakejakejake")

    assert caught.value.fields == {"username": ["has already been taken"]}


def test_registration_reports_every_taken_field_at_once(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    with pytest.raises(Unprocessable) as caught:
        service.register(users, "JAKE", "JAKE@jake.jake", "jakejakejake")

    assert set(caught.value.fields) == {"username", "email"}
    assert caught.value.to_body()["errors"]["body"] == [
        "email has already been taken", "username has already been taken"]


def test_registration_losing_a_race_after_the_check_is_a_422_on_the_field(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    users.stale_checks = True

    with pytest.raises(Unprocessable) as caught:
        service.register(users, "JAKE", "new@jake.jake", "jakejakejake")

    assert caught.value.fields == {"username": ["has already been taken"]}


def test_login_with_the_right_password_answers_a_fresh_token(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    account = service.login(users, "JAKE@jake.jake", "jakejakejake")

    assert account.username == "jake"
    assert codec.verify(account.token).user_id == codec.verify(registered.token).user_id


def test_login_with_a_wrong_password_is_unauthorized_without_a_hint(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    with pytest.raises(Unauthorized) as caught:
        service.login(users, "jake@jake.jake", "not-the-password")

    assert caught.value.message == "email or password is invalid"


def test_login_with_an_unknown_email_says_the_same_and_still_spends_a_hash(
        service, users, unit_passwords):
    with pytest.raises(Unauthorized) as caught:
        service.login(users, "nobody@jake.jake", "jakejakejake")

    assert caught.value.message == "email or password is invalid"
    assert unit_passwords.verifications == 1


def test_login_rehashes_a_password_hashed_with_old_parameters(make_service, users):
    make_service(time_cost=1).register(users, "jake", "jake@jake.jake", "jakejakejake")
    old_hash = users.by_email("jake@jake.jake").password_hash

    make_service(time_cost=2).login(users, "jake@jake.jake", "jakejakejake")

    new_hash = users.by_email("jake@jake.jake").password_hash
    assert new_hash != old_hash
    assert "t=2" in new_hash


def test_login_keeps_a_hash_made_with_current_parameters(make_service, users):
    service = make_service(time_cost=1)
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    saves_before = users.saves
    old_hash = users.by_email("jake@jake.jake").password_hash

    service.login(users, "jake@jake.jake", "jakejakejake")

    assert users.by_email("jake@jake.jake").password_hash == old_hash
    assert users.saves == saves_before


def test_current_user_answers_with_the_token_presented(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id

    account = service.current(users, user_id, "the-token-presented")

    assert account.token == "the-token-presented"
    assert account.email == "jake@jake.jake"


def test_current_user_answers_from_the_row_the_token_check_read(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id
    known = users.users[user_id]

    account = service.current(users, user_id, "the-token-presented", known=known)

    assert account.username == "jake"
    assert users.rows_read == 0


def test_current_user_that_no_longer_exists_is_unauthorized(service, users):
    with pytest.raises(Unauthorized):
        service.current(users, 404, "token")


def test_update_changes_only_the_given_fields_and_issues_a_fresh_token(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id

    account = service.update(users, user_id, {"username": "jacob", "bio": "I work at statefarm"})

    assert (account.username, account.email, account.bio, account.image) == (
        "jacob", "jake@jake.jake", "I work at statefarm", None)
    assert codec.verify(account.token).username == "jacob"


def test_update_with_nothing_changes_nothing(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id
    before = users.get(user_id).password_hash

    account = service.update(users, user_id, {})

    assert (account.username, account.email) == ("jake", "jake@jake.jake")
    assert users.get(user_id).password_hash == before


def test_update_of_the_password_replaces_the_hash(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id

    service.update(users, user_id, {"password": "a-new-password",
                                    "current_password": "jakejakejake"})

    assert service.login(users, "jake@jake.jake", "a-new-password").username == "jake"
    with pytest.raises(Unauthorized):
        service.login(users, "jake@jake.jake", "jakejakejake")


def test_update_to_another_users_email_is_a_422_on_email(service, users, codec):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    other = service.register(users, "anne", "anne@jake.jake", "anneanneanne")

    with pytest.raises(Unprocessable) as caught:
        service.update(users, codec.verify(other.token).user_id, {"email": "Jake@Jake.Jake"})

    assert caught.value.fields == {"email": ["has already been taken"]}


def test_update_may_change_the_case_of_ones_own_username(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    account = service.update(users, codec.verify(registered.token).user_id, {"username": "Jake"})

    assert account.username == "Jake"


def test_registration_publishes_the_new_users_public_state(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    assert users.published == [("UserRegistered", {
        "id": 1, "username": "jake", "bio": None, "image": None, "version": 1,
        "token_version": 0})]


def test_each_update_publishes_the_state_with_the_next_version(service, users):
    service.register(users, "jake", "jake@jake.jake", "jakejakejake")

    service.update(users, 1, {"bio": "hello"})
    service.update(users, 1, {"username": "jacob"})

    assert [(kind, state["version"], state["username"], state["bio"])
            for kind, state in users.published[1:]] == [
        ("UserChanged", 2, "jake", "hello"), ("UserChanged", 3, "jacob", "hello")]


def test_login_backoff_doubles_after_the_free_failures_and_caps(service, users):
    from conduit_auth.services import FREE_FAILURES, MAX_BACKOFF_SECONDS, backoff_seconds

    assert [backoff_seconds(n) for n in range(FREE_FAILURES + 3)] == (
        [0] * FREE_FAILURES + [1, 2, 4])
    assert backoff_seconds(100) == MAX_BACKOFF_SECONDS


def test_a_password_change_raises_the_token_version_in_the_new_token(service, users, codec):
    registered = service.register(users, "jake", "jake@jake.jake", "jakejakejake")
    user_id = codec.verify(registered.token).user_id

    changed = service.update(users, user_id, {"password": "a-new-password",
                                              "current_password": "jakejakejake"})

    assert codec.verify(registered.token).token_version == 0
    assert codec.verify(changed.token).token_version == 1
    assert users.published[-1][1]["token_version"] == 1

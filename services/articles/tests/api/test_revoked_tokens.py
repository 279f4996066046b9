"""Tokens revoked in auth (password change, logout) stop working here too, through the
users read model's token_version, after at most the check's cache window."""
from conduit_common.events.users import upsert_users
from conduit_common.testing.counting import counting_statements
from conduit_common.testing.keys import issuing_codec

from conduit_articles.models import USERS


def revoke(sessions, user, token_version):
    with sessions.session() as session:
        upsert_users(session, USERS, [{"id": user.id, "username": user.username, "bio": None,
                                       "image": None, "version": 2 + token_version,
                                       "token_version": token_version}])


def test_a_token_older_than_the_users_token_version_is_a_401(client, sessions, make_user):
    jake = make_user("jake")
    revoke(sessions, jake, token_version=1)

    old = client.simulate_get("/api/articles/feed", headers=jake.headers)
    new_token = issuing_codec().issue(jake.id, jake.username, token_version=1)
    new = client.simulate_get("/api/articles/feed",
                              headers={"Authorization": f"Token {new_token}"})

    assert old.status_code == 401
    assert old.json == {"errors": {"body": ["this token has been revoked, sign in again"]}}
    assert new.status_code == 200


def test_the_check_costs_one_statement_per_user_per_window_not_per_request(
        client, engine, make_user):
    jake = make_user("jake")
    with counting_statements(engine) as first:
        client.simulate_get("/api/articles", headers=jake.headers)
    with counting_statements(engine) as second:
        client.simulate_get("/api/articles", headers=jake.headers)

    assert first.count == 2 and second.count == 1   # the page (with its total), plus the check

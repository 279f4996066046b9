"""AuthClient turns auth's internal API into User values, one call per batch."""
import pytest

from conduit_common.errors import DependencyUnavailable
from conduit_profiles.clients import AuthClient, User


class RecordingHttp:
    """Stands in for InternalClient: answers with a canned body, records calls."""

    def __init__(self, body):
        self.body = body
        self.calls = []

    def get_json(self, path, params=None):
        self.calls.append((path, params))
        return self.body


def test_users_by_ids_makes_one_call_for_the_whole_batch():
    http = RecordingHttp({"users": [{"id": 1, "username": "a", "bio": None, "image": None}]})

    users = AuthClient(http).users_by_ids([1, 2, 3])

    assert users == [User(1, "a", None, None)]
    assert http.calls == [("/internal/users", {"id": [1, 2, 3]})]


def test_users_by_ids_of_nothing_calls_nobody():
    http = RecordingHttp({"users": []})

    assert AuthClient(http).users_by_ids([]) == []
    assert http.calls == []


def test_user_by_username_matches_case_insensitively():
    http = RecordingHttp({"users": [{"id": 4, "username": "Jake", "bio": "b", "image": "i"}]})

    assert AuthClient(http).user_by_username("JAKE") == User(4, "Jake", "b", "i")
    assert http.calls == [("/internal/users", {"username": "JAKE"})]


def test_user_by_username_is_none_when_auth_knows_nobody():
    assert AuthClient(RecordingHttp({"users": []})).user_by_username("jake") is None


@pytest.mark.parametrize("body", [{}, {"users": [{"username": "no id"}]}, {"users": None}])
def test_unreadable_reply_is_a_dependency_failure(body):
    with pytest.raises(DependencyUnavailable):
        AuthClient(RecordingHttp(body)).users_by_ids([1])

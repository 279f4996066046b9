"""/internal routes: batched, bounded in SQL and in calls to auth, strict about input."""
import pytest

from conduit_common.testing.counting import counting_statements


def _query(ids, viewer=None) -> str:
    parts = [f"id={i}" for i in ids] + ([f"viewer={viewer}"] if viewer is not None else [])
    return "&".join(parts)


@pytest.fixture
def hundred_users(fake_auth):
    return [fake_auth.add(i, f"user{i}") for i in range(1, 101)]


def test_batch_answers_profiles_in_request_order_with_following(
        client, fake_auth, token_for):
    fake_auth.add(1, "a", bio="bio a")
    fake_auth.add(2, "b")
    viewer = fake_auth.add(7, "viewer")
    client.simulate_post("/api/profiles/b/follow", headers={"Authorization": token_for(viewer)})

    result = client.simulate_get("/internal/profiles", query_string=_query([2, 1, 99], viewer=7))

    assert result.status_code == 200
    assert result.json == {"profiles": [
        {"id": 2, "username": "b", "bio": None, "image": None, "following": True},
        {"id": 1, "username": "a", "bio": "bio a", "image": None, "following": False},
    ]}


def test_batch_without_viewer_follows_nobody(client, fake_auth):
    fake_auth.add(1, "a")

    result = client.simulate_get("/internal/profiles", query_string="id=1")

    assert result.json["profiles"][0]["following"] is False


def test_batch_of_no_ids_is_empty_and_calls_nobody(client, fake_auth):
    result = client.simulate_get("/internal/profiles")

    assert result.json == {"profiles": []}
    assert fake_auth.calls == []


@pytest.mark.parametrize("size", [1, 100])
def test_batch_makes_one_auth_call_whatever_its_size(client, fake_auth, hundred_users, size):
    client.simulate_get("/internal/profiles", query_string=_query(range(1, size + 1), viewer=7))

    assert fake_auth.calls == [("ids", list(range(1, size + 1)))]


def test_batch_runs_the_same_sql_for_1_and_100_ids(client, engine, hundred_users):
    counts = []
    for size in (1, 100):
        with counting_statements(engine) as log:
            result = client.simulate_get("/internal/profiles",
                                         query_string=_query(range(1, size + 1), viewer=7))
        assert len(result.json["profiles"]) == size
        counts.append(log.count)

    assert counts == [1, 1]


def test_batch_without_viewer_runs_no_sql(client, engine, hundred_users):
    with counting_statements(engine) as log:
        client.simulate_get("/internal/profiles", query_string=_query(range(1, 101)))

    assert log.count == 0


def test_batch_of_200_ids_is_accepted_and_201_refused(client, fake_auth):
    assert client.simulate_get("/internal/profiles",
                               query_string=_query(range(1, 201))).status_code == 200

    result = client.simulate_get("/internal/profiles", query_string=_query(range(1, 202)))

    assert result.status_code == 422
    assert result.json["errors"]["id"] == ["must hold at most 200 ids"]
    assert len(fake_auth.calls) == 1


@pytest.mark.parametrize("query", ["id=abc", "id=1&id=2.5", "id=0", "id=-3",
                                   f"id={2**63}", "id=1&viewer=x", "id=1,2"])
def test_batch_with_a_bad_id_is_422_without_calling_auth(client, fake_auth, query):
    result = client.simulate_get("/internal/profiles", query_string=query)

    assert result.status_code == 422
    assert result.json["errors"]["body"]
    assert fake_auth.calls == []


def test_following_lists_the_followee_ids(client, fake_auth, token_for):
    viewer = fake_auth.add(7, "viewer")
    for user_id, name in ((3, "c"), (1, "a"), (2, "b")):
        fake_auth.add(user_id, name)
    for name in ("c", "a"):
        client.simulate_post(f"/api/profiles/{name}/follow",
                             headers={"Authorization": token_for(viewer)})

    result = client.simulate_get("/internal/following", query_string="follower=7")

    assert result.status_code == 200
    assert result.json == {"ids": [1, 3]}


def test_following_of_someone_who_follows_nobody_is_empty(client):
    result = client.simulate_get("/internal/following", query_string="follower=5")

    assert result.json == {"ids": []}


def test_following_runs_one_query(client, engine):
    with counting_statements(engine) as log:
        client.simulate_get("/internal/following", query_string="follower=5")

    assert log.count == 1


@pytest.mark.parametrize("query", ["", "follower=", "follower=me", "follower=0"])
def test_following_needs_a_valid_follower(client, query):
    result = client.simulate_get("/internal/following", query_string=query)

    assert result.status_code == 422
    assert result.json["errors"]["body"]

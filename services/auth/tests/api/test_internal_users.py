"""GET /internal/users: batch lookups for profiles and articles."""
from conduit_common.testing.counting import counting_statements


def internal(client, query: str):
    return client.simulate_get("/internal/users", query_string=query)


def register_all(register, *names) -> None:
    """Register in order: ids start at 1 on the freshly truncated table."""
    for name in names:
        register(name)


def test_users_by_ids_with_unknown_ids_absent(client, register):
    register_all(register, "jake", "anne", "bob")

    result = internal(client, "id=1&id=3&id=404")

    assert result.status_code == 200
    assert result.json == {"users": [
        {"id": 1, "username": "jake", "bio": None, "image": None},
        {"id": 3, "username": "bob", "bio": None, "image": None},
    ]}


def test_users_by_username_ignore_case(client, register):
    register_all(register, "jake", "Anne")

    result = internal(client, "username=JAKE&username=anne&username=nobody")

    assert [u["username"] for u in result.json["users"]] == ["jake", "Anne"]


def test_ids_and_usernames_may_be_combined(client, register):
    register_all(register, "jake", "anne", "bob")

    result = internal(client, "id=1&username=BOB")

    assert [u["id"] for u in result.json["users"]] == [1, 3]


def test_a_batch_is_one_query(client, register, engine):
    register_all(register, *[f"user{n}" for n in range(30)])
    query = "&".join(f"id={n}" for n in range(1, 31))

    with counting_statements(engine) as log:
        result = internal(client, query)

    assert len(result.json["users"]) == 30
    assert log.count == 1


def test_the_internal_view_has_no_email(client, register):
    register_all(register, "jake")

    assert "email" not in internal(client, "id=1").json["users"][0]


def test_no_keys_means_no_users(client):
    assert internal(client, "").json == {"users": []}


def test_more_than_200_ids_is_a_422(client):
    result = internal(client, "&".join(f"id={n}" for n in range(1, 202)))

    assert result.status_code == 422
    assert result.json["errors"]["id"] == ["at most 200 per call"]


def test_an_id_that_is_not_a_positive_integer_is_a_422(client):
    result = internal(client, "id=1&id=abc")

    assert result.status_code == 422
    assert "id.1" in result.json["errors"]

"""The user events auth publishes: its outbox feed and the snapshot consumers start from."""
from sqlalchemy import select

from conduit_auth.models import OUTBOX
from conduit_common.events.model import Position
from conduit_common.testing.counting import counting_statements
from conduit_common.testing.keys import internal_headers

# Every call here is profiles' projector calling auth's internal API.
INTERNAL = internal_headers("profiles", "auth")


def feed(client, after="0", consumer="profiles", wait=2, **params):
    """The feed after a position. It long-polls (up to `wait` s) like the projectors do."""
    query = {"consumer": consumer, "after": after, "wait": wait, **params}
    result = client.simulate_get("/internal/events", params=query, headers=INTERNAL)
    assert result.status_code == 200, result.json
    return result.json


def test_registration_publishes_the_users_public_state(client, register):
    register("jake")

    events = feed(client)["events"]

    assert [e["type"] for e in events] == ["UserRegistered"]
    data = events[0]["data"]
    assert data == {"id": data["id"], "username": "jake", "bio": None, "image": None,
                    "version": 1, "token_version": 0}


def test_a_profile_change_publishes_the_new_state_with_a_higher_version(
        client, register, auth_header):
    token = register("jake")["token"]
    client.simulate_put("/api/user", json={"user": {"bio": "I work at statefarm"}},
                        headers=auth_header(token))

    events = feed(client)["events"]

    assert [(e["type"], e["data"]["version"], e["data"]["bio"]) for e in events] == [
        ("UserRegistered", 1, None), ("UserChanged", 2, "I work at statefarm")]


def test_a_failed_registration_publishes_nothing(client, register):
    register("jake", email="jake@example.com")
    duplicate = client.simulate_post("/api/users", json={"user": {
        "username": "jake", "email": "other@example.com", "password": "password123"}})

    assert duplicate.status_code == 422
    assert len(feed(client)["events"]) == 1


def test_the_feed_reads_after_a_position_in_batches(client, register):
    for name in ("a", "b", "c"):
        register(name)

    first = feed(client, limit=2)
    rest = feed(client, after=first["position"], limit=2)

    names = [e["data"]["username"] for e in first["events"] + rest["events"]]
    assert names == ["a", "b", "c"]
    assert rest["position"] == rest["events"][-1]["position"]
    assert feed(client, after=rest["position"], wait=0)["events"] == []


def acknowledged(engine) -> dict:
    """The position auth's outbox holds for each consumer."""
    table = OUTBOX.consumers
    with engine.connect() as connection:
        return dict(connection.execute(select(table.c.name, table.c.seq)).all())


def test_asking_from_a_position_acknowledges_it(client, register, engine):
    register("jake")
    position = feed(client)["position"]

    feed(client, after=position)

    assert Position(acknowledged(engine)["profiles"]) == Position.parse(position)


def test_an_acknowledgement_never_moves_back(client, engine, register):
    """A read from an old position (a probe, a projector that lost its lead) must not
    make writers wait again for events their consumer applied long ago."""
    for name in ("a", "b"):
        register(name)
    head = feed(client)["position"]
    feed(client, after=head, wait=0)

    feed(client, after="0", wait=0)

    assert acknowledged(engine)["profiles"] == int(head)


def test_a_caller_may_only_read_as_itself(client):
    as_articles = client.simulate_get("/internal/events", headers=INTERNAL,
                                      params={"consumer": "articles"})

    assert as_articles.status_code == 403
    assert as_articles.json["errors"]["body"]


def test_a_bad_feed_query_is_a_422(client):
    for params in ({"consumer": "Bad Name"}, {"consumer": "profiles", "after": "7.1"},
                   {"consumer": "profiles", "limit": "0"},
                   {"consumer": "profiles", "wait": "60"}):
        result = client.simulate_get("/internal/events", params=params, headers=INTERNAL)
        assert result.status_code == 422, params


def test_the_snapshot_pages_through_every_user_with_the_feed_position(client, register):
    for name in ("a", "b", "c"):
        register(name)
    head = feed(client)["position"]

    first = client.simulate_get("/internal/users/snapshot", params={"limit": 2},
                                headers=INTERNAL).json
    second = client.simulate_get("/internal/users/snapshot", headers=INTERNAL,
                                 params={"limit": 2, "after": first["next"]}).json

    assert [r["username"] for r in first["rows"] + second["rows"]] == ["a", "b", "c"]
    assert second["next"] is None
    assert first["position"] == head
    assert set(first["rows"][0]) == {"id", "username", "bio", "image", "version",
                                     "token_version"}


def test_a_snapshot_page_is_two_statements(client, register, engine):
    register("a")
    with counting_statements(engine) as log:
        client.simulate_get("/internal/users/snapshot", params={"limit": 10}, headers=INTERNAL)
    assert log.count == 3, log   # feed head, pruning horizon, the page


def test_the_internal_api_refuses_a_caller_without_a_service_token(client, register):
    register("a")
    for path in ("/internal/events", "/internal/users/snapshot"):
        result = client.simulate_get(path, params={"consumer": "tests"})
        assert result.status_code == 401
        assert result.json["errors"]["body"]

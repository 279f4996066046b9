"""A service restarted mid-run loses no data; while it is down the gateway says 503."""
UNAVAILABLE = {"errors": {"body": ["service unavailable"]}}


def test_a_restarted_service_keeps_its_data_and_a_stopped_one_is_503(local_stack, api):
    author = api.register("restart")
    article = api.create_article(author, title="Survives restarts")

    local_stack.stop("articles")
    try:
        resp = api.request("GET", f"/articles/{article['slug']}")
        assert resp.status_code == 503
        assert resp.json() == UNAVAILABLE
    finally:
        local_stack.start("articles")
        local_stack.wait_ready("articles")

    fetched = api.request("GET", f"/articles/{article['slug']}", author.token)
    assert fetched.status_code == 200
    assert fetched.json()["article"]["title"] == "Survives restarts"


def test_users_survive_an_auth_restart_and_old_tokens_stay_valid(local_stack, api):
    user = api.register("restart")
    local_stack.restart("auth")
    assert api.request("GET", "/user", user.token).json()["user"]["username"] == user.username
    login = api.request("POST", "/users/login",
                        json={"user": {"email": user.email, "password": user.password}})
    assert login.status_code == 200


def test_follows_survive_a_profiles_restart(local_stack, api):
    reader, writer = api.register("reader"), api.register("writer")
    api.request("POST", f"/profiles/{writer.username}/follow", reader.token)
    local_stack.restart("profiles")
    profile = api.request("GET", f"/profiles/{writer.username}", reader.token).json()["profile"]
    assert profile["following"] is True

"""Helpers of the contract tests, which call a real auth service over HTTP."""
import uuid

import requests

from conduit_common.tokens import TokenCodec


def register_user(auth_url: str, name: str, codec: TokenCodec) -> dict:
    """Register a user through auth's public API; return its user document plus "id".

    The name gets a random suffix, so tests need not empty auth's table; "id" is the
    subject of the token auth issued, read with `codec`.
    """
    username = f"{name}-{uuid.uuid4().hex[:8]}"
    response = requests.post(f"{auth_url}/api/users", timeout=10, json={"user": {
        "username": username, "email": f"{username}@example.com", "password": "s3cret-pass"}})
    assert response.status_code == 201, response.text
    user = response.json()["user"]
    return {**user, "id": codec.verify(user["token"]).user_id}

"""Fixtures of the auth tests: a migrated Postgres, the app, and user factories."""
from pathlib import Path

import pytest
from falcon import testing

from conduit_auth.app import create_app
from conduit_auth.config import AuthSettings
from conduit_auth.passwords import Passwords
from conduit_common.testing.fixtures import MigratedSchema
from conduit_common.testing.keys import (SERVICE_PUBLIC_KEYS, USER_TOKEN_KEY, USER_TOKEN_KEYS,
                                         internal_headers, issuing_codec)
from conduit_common.tokens import TokenCodec

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"


@pytest.fixture(scope="session")
def alembic_ini() -> Path:
    return ALEMBIC_INI


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    """Argon2id at the cheapest cost, so that tests stay fast."""
    return Passwords(time_cost=1, memory_cost=1024)


@pytest.fixture
def codec() -> TokenCodec:
    return issuing_codec(ttl_seconds=3600)


@pytest.fixture(scope="session")
def auth_schema(conduit_database):
    with MigratedSchema(conduit_database, "auth", ALEMBIC_INI, pool_size=10,
                        application_name="auth-tests") as schema:
        yield schema


@pytest.fixture(scope="session")
def auth_url(auth_schema) -> str:
    return auth_schema.url


@pytest.fixture
def engine(auth_schema):
    """The auth role's engine on an empty users table."""
    return auth_schema.emptied()


@pytest.fixture
def settings(auth_url) -> AuthSettings:
    return AuthSettings(jwt_public_keys=USER_TOKEN_KEYS, jwt_private_key=USER_TOKEN_KEY,
                        service_public_keys=SERVICE_PUBLIC_KEYS, database_url=auth_url,
                        argon2_time_cost=1, argon2_memory_cost=1024)


@pytest.fixture
def client(engine, settings, passwords, codec) -> testing.TestClient:
    return testing.TestClient(create_app(settings, engine=engine, passwords=passwords,
                                         codec=codec))


@pytest.fixture
def register(client):
    """Register a user through the API; return the "user" object of the 201."""
    def register(username: str = "jake", email: str | None = None,
                 password: str = "jakejakejake") -> dict:
        email = email or f"{username}@example.com"
        result = client.simulate_post("/api/users", json={"user": {
            "username": username, "email": email, "password": password}})
        assert result.status_code == 201, result.json
        return result.json["user"]
    return register


@pytest.fixture
def auth_header():
    def auth_header(token: str, scheme: str = "Token") -> dict:
        return {"Authorization": f"{scheme} {token}"}
    return auth_header


@pytest.fixture
def internal():
    """Headers of an internal call, as profiles' projector makes it."""
    return internal_headers("profiles", "auth")

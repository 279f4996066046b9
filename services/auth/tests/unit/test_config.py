"""Settings from the environment: argon2 cost and the shared variables."""
import pytest

import json

from conduit_auth.config import AuthSettings
from conduit_common.config import ConfigError, Env
from conduit_common.keys import KeySet, SigningKey
from conduit_common.testing.keys import USER_TOKEN_KEY, USER_TOKEN_KEYS

BASE = {"JWT_PUBLIC_KEYS": json.dumps(USER_TOKEN_KEYS.to_jwks()),
        "JWT_PRIVATE_KEY": USER_TOKEN_KEY.pem(),
        "DATABASE_URL": "postgresql+psycopg://u:p@h/conduit"}


def test_argon2_cost_defaults_to_the_owasp_baseline():
    settings = AuthSettings.from_env(Env(BASE))

    assert (settings.argon2_time_cost, settings.argon2_memory_cost) == (2, 19456)


def test_argon2_cost_is_read_from_the_environment():
    settings = AuthSettings.from_env(Env({**BASE, "ARGON2_TIME_COST": "1",
                                          "ARGON2_MEMORY_COST": "1024"}))

    assert (settings.argon2_time_cost, settings.argon2_memory_cost) == (1, 1024)


@pytest.mark.parametrize("name, value", [("ARGON2_TIME_COST", "0"),
                                         ("ARGON2_MEMORY_COST", "4"),
                                         ("ARGON2_MEMORY_COST", "lots")])
def test_bad_argon2_cost_fails_fast_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        AuthSettings.from_env(Env({**BASE, name: value}))


@pytest.mark.parametrize("missing", ["JWT_PUBLIC_KEYS", "JWT_PRIVATE_KEY", "DATABASE_URL"])
def test_required_variables_fail_fast_by_name(missing):
    env = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(ConfigError, match=missing):
        AuthSettings.from_env(Env(env))


def test_the_private_key_signs_as_auth_with_its_derived_kid():
    key = AuthSettings.from_env(Env(BASE)).jwt_private_key

    assert key.kid == USER_TOKEN_KEY.kid and key.kid.startswith("auth.")


def test_a_private_key_missing_from_the_published_set_fails_fast():
    other = KeySet.of(SigningKey.generate("auth"))

    with pytest.raises(ConfigError, match="not in JWT_PUBLIC_KEYS"):
        AuthSettings.from_env(Env({**BASE, "JWT_PUBLIC_KEYS": json.dumps(other.to_jwks())}))


@pytest.mark.parametrize("pem", [
    "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_a_malformed_private_key_fails_fast_by_name(pem):
    with pytest.raises(ConfigError, match="JWT_PRIVATE_KEY"):
        AuthSettings.from_env(Env({**BASE, "JWT_PRIVATE_KEY": pem}))

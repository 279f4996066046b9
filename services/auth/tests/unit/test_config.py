"""Settings from the environment: argon2 cost and the shared variables."""
import pytest

from conduit_auth.config import AuthSettings
from conduit_common.config import ConfigError, Env

BASE = {"CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql+psycopg2://u:p@h/conduit"}


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


@pytest.mark.parametrize("missing", ["CONDUIT_SECRET", "DATABASE_URL"])
def test_required_variables_fail_fast_by_name(missing):
    env = {k: v for k, v in BASE.items() if k != missing}

    with pytest.raises(ConfigError, match=missing):
        AuthSettings.from_env(Env(env))

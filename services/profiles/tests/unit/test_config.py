"""Settings come from the environment and fail fast with the variable's name."""
import pytest

from conduit_common.config import ConfigError, Env
from conduit_profiles.config import ProfilesSettings

BASE = {"CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql+psycopg2://u@h/conduit",
        "AUTH_SERVICE_URL": "http://auth:8000"}


def test_settings_read_the_auth_url_and_default_timeout():
    settings = ProfilesSettings.from_env(Env(BASE))

    assert settings.auth_service_url == "http://auth:8000"
    assert settings.downstream_timeout_seconds == 2.0


def test_downstream_timeout_is_configurable():
    settings = ProfilesSettings.from_env(Env({**BASE, "DOWNSTREAM_TIMEOUT_SECONDS": "0.5"}))

    assert settings.downstream_timeout_seconds == 0.5


@pytest.mark.parametrize("name", ["AUTH_SERVICE_URL", "CONDUIT_SECRET", "DATABASE_URL"])
def test_missing_required_variable_is_named(name):
    environ = {k: v for k, v in BASE.items() if k != name}

    with pytest.raises(ConfigError, match=name):
        ProfilesSettings.from_env(Env(environ))


def test_non_numeric_timeout_is_refused():
    with pytest.raises(ConfigError, match="DOWNSTREAM_TIMEOUT_SECONDS"):
        ProfilesSettings.from_env(Env({**BASE, "DOWNSTREAM_TIMEOUT_SECONDS": "soon"}))

import pytest

from conduit_common.config import ConfigError, Env
from conduit_common.settings import CommonSettings


def test_missing_variable_is_named_in_the_error():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Env({}).str("DATABASE_URL")


def test_empty_variable_counts_as_missing():
    with pytest.raises(ConfigError, match="CONDUIT_SECRET"):
        Env({"CONDUIT_SECRET": ""}).secret("CONDUIT_SECRET")


def test_default_is_used_when_unset():
    assert Env({}).int("JWT_TTL_SECONDS", 86400) == 86400


def test_non_integer_is_refused_with_its_name():
    with pytest.raises(ConfigError, match="DB_POOL_SIZE must be an integer"):
        Env({"DB_POOL_SIZE": "many"}).int("DB_POOL_SIZE", 5)


def test_short_secret_is_refused():
    with pytest.raises(ConfigError, match="at least 32"):
        Env({"CONDUIT_SECRET": "short"}).secret("CONDUIT_SECRET")


def test_common_settings_read_every_shared_variable():
    settings = CommonSettings.from_env(Env({
        "CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql://x/y", "JWT_TTL_SECONDS": "60",
        "LOG_LEVEL": "debug", "MAX_BODY_BYTES": "2048", "DB_POOL_SIZE": "3",
        "CONDUIT_SECRET_FALLBACKS": f"{'a' * 32}, {'b' * 40}",
    }))
    assert settings == CommonSettings(secret="s" * 32, database_url="postgresql://x/y",
                                      jwt_ttl_seconds=60, log_level="DEBUG",
                                      max_body_bytes=2048, db_pool_size=3,
                                      secret_fallbacks=("a" * 32, "b" * 40))


@pytest.mark.parametrize("value", [None, "", " , "])
def test_secret_fallbacks_are_optional(value):
    environ = {"CONDUIT_SECRET": "s" * 32, "DATABASE_URL": "postgresql://x/y"}
    if value is not None:
        environ["CONDUIT_SECRET_FALLBACKS"] = value
    assert CommonSettings.from_env(Env(environ)).secret_fallbacks == ()


def test_a_short_fallback_secret_is_refused_by_name():
    with pytest.raises(ConfigError, match="CONDUIT_SECRET_FALLBACKS.*32"):
        Env({"CONDUIT_SECRET_FALLBACKS": f"{'a' * 32},short"}).secret_list(
            "CONDUIT_SECRET_FALLBACKS")


def test_secret_has_no_default():
    with pytest.raises(ConfigError, match="CONDUIT_SECRET"):
        CommonSettings.from_env(Env({"DATABASE_URL": "postgresql://x/y"}))


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("ON", True),
                                           ("0", False), ("no", False), ("", True)])
def test_flags_read_the_usual_spellings_and_default_when_unset(raw, expected):
    assert Env({"ACCESS_LOG": raw}).flag("ACCESS_LOG", True) is expected


def test_a_flag_that_is_neither_yes_nor_no_is_refused_by_name():
    with pytest.raises(ConfigError, match="ACCESS_LOG"):
        Env({"ACCESS_LOG": "maybe"}).flag("ACCESS_LOG", True)


EXAMPLE = "local-only-jwt-secret-change-me-0123456789"
BASE = {"DATABASE_URL": "postgresql+psycopg2://u@h/conduit"}


def test_the_published_example_secret_is_refused_without_the_dev_flag():
    with pytest.raises(ConfigError, match="published example"):
        CommonSettings.from_env(Env({**BASE, "CONDUIT_SECRET": EXAMPLE}))


def test_the_example_secret_runs_a_local_stack_with_the_dev_flag():
    settings = CommonSettings.from_env(Env({**BASE, "CONDUIT_SECRET": EXAMPLE,
                                            "CONDUIT_ALLOW_EXAMPLE_KEY": "1"}))
    assert settings.secret == EXAMPLE


def test_every_secret_published_in_env_example_is_known_as_an_example():
    from pathlib import Path
    from conduit_common.settings import EXAMPLE_SECRETS
    example = Path(__file__).resolve().parents[4] / ".env.example"
    published = {line.split("=", 1)[1].strip() for line in example.read_text().splitlines()
                 if line.startswith("CONDUIT_SECRET=")}
    assert published and published <= EXAMPLE_SECRETS

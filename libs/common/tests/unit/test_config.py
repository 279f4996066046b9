import json

import pytest

from conduit_common.config import ConfigError, Env
from conduit_common.keys import KeySet
from conduit_common.settings import CommonSettings
from conduit_common.testing.keys import SERVICE_KEYS, USER_TOKEN_KEY, RecordingEnviron


def test_missing_variable_is_named_in_the_error():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Env({}).str("DATABASE_URL")


def test_empty_variable_counts_as_missing():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Env({"DATABASE_URL": ""}).str("DATABASE_URL")


def test_default_is_used_when_unset():
    assert Env({}).int("JWT_TTL_SECONDS", 86400) == 86400


def test_non_integer_is_refused_with_its_name():
    with pytest.raises(ConfigError, match="DB_POOL_SIZE must be an integer"):
        Env({"DB_POOL_SIZE": "many"}).int("DB_POOL_SIZE", 5)


KEYS = KeySet.of(USER_TOKEN_KEY)
JWKS = json.dumps(KEYS.to_jwks())
BASE = {"DATABASE_URL": "postgresql+psycopg://u@h/conduit", "JWT_PUBLIC_KEYS": JWKS}


def test_common_settings_read_every_shared_variable():
    callers = KeySet.of(SERVICE_KEYS["profiles"])
    settings = CommonSettings.from_env(Env({
        **BASE, "JWT_TTL_SECONDS": "60", "LOG_LEVEL": "debug", "MAX_BODY_BYTES": "2048",
        "DB_POOL_SIZE": "3", "SERVICE_PUBLIC_KEYS": json.dumps(callers.to_jwks()),
    }))
    assert settings == CommonSettings(jwt_public_keys=KEYS, database_url=BASE["DATABASE_URL"],
                                      jwt_ttl_seconds=60, log_level="DEBUG",
                                      max_body_bytes=2048, db_pool_size=3,
                                      service_public_keys=callers)


def test_public_keys_are_required_and_service_keys_are_optional():
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEYS"):
        CommonSettings.from_env(Env({"DATABASE_URL": "postgresql://x/y"}))
    assert len(CommonSettings.from_env(Env(BASE)).service_public_keys) == 0


def test_key_material_can_come_from_a_file(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(JWKS)
    environ = {**BASE, "JWT_PUBLIC_KEYS": "", "JWT_PUBLIC_KEYS_FILE": str(path)}
    assert CommonSettings.from_env(Env(environ)).jwt_public_keys == KEYS


def test_key_material_in_both_forms_or_from_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEYS or JWT_PUBLIC_KEYS_FILE, not both"):
        CommonSettings.from_env(Env({**BASE, "JWT_PUBLIC_KEYS_FILE": str(tmp_path / "x")}))
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEYS_FILE: cannot read"):
        CommonSettings.from_env(Env({**BASE, "JWT_PUBLIC_KEYS": "",
                                     "JWT_PUBLIC_KEYS_FILE": str(tmp_path / "missing")}))


@pytest.mark.parametrize("bad", ["not json", "{}", '{"keys": []}',
                                 '{"keys": [{"kty": "RSA", "kid": "auth.x"}]}'])
def test_a_malformed_or_empty_public_key_set_is_refused_by_name(bad):
    with pytest.raises(ConfigError, match="JWT_PUBLIC_KEYS"):
        CommonSettings.from_env(Env({**BASE, "JWT_PUBLIC_KEYS": bad}))


def test_a_public_set_that_holds_a_private_key_is_refused():
    jwk = KEYS.to_jwks()["keys"][0] | {"d": "c2VjcmV0"}
    with pytest.raises(ConfigError, match="private part"):
        CommonSettings.from_env(Env({**BASE, "JWT_PUBLIC_KEYS": json.dumps({"keys": [jwk]})}))


def test_common_settings_never_read_a_private_key():
    environ = RecordingEnviron({**BASE, "JWT_PRIVATE_KEY": USER_TOKEN_KEY.pem(),
                                "SERVICE_PRIVATE_KEY": SERVICE_KEYS["profiles"].pem()})
    CommonSettings.from_env(Env(environ))
    assert environ.private_names_asked() == set()


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("ON", True),
                                           ("0", False), ("no", False), ("", True)])
def test_flags_read_the_usual_spellings_and_default_when_unset(raw, expected):
    assert Env({"ACCESS_LOG": raw}).flag("ACCESS_LOG", True) is expected


def test_a_flag_that_is_neither_yes_nor_no_is_refused_by_name():
    with pytest.raises(ConfigError, match="ACCESS_LOG"):
        Env({"ACCESS_LOG": "maybe"}).flag("ACCESS_LOG", True)

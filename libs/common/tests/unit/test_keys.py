import json
import stat

import pytest

from conduit_common import keys
from conduit_common.keys import KeyMaterialError, KeySet, SigningKey


def test_kid_is_the_owner_and_the_key_thumbprint_and_survives_a_pem_round_trip():
    key = SigningKey.generate("profiles")
    assert key.kid.startswith("profiles.") and len(key.kid) == len("profiles.") + 16
    assert SigningKey.from_pem("profiles", key.pem()).kid == key.kid
    assert SigningKey.generate("profiles").kid != key.kid
    assert keys.owner_of(key.kid) == "profiles"


def test_rfc7638_thumbprint_of_the_rfc8037_example_key():
    # RFC 8037, appendix A.3: the thumbprint of its example Ed25519 public key.
    jwk = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "auth.x",
                     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
    public = KeySet.from_jwks(json.dumps(jwk)).get("auth.x")
    assert keys.thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_a_jwks_round_trip_keeps_every_key():
    key_set = KeySet.of(SigningKey.generate("auth"), SigningKey.generate("auth"))
    assert KeySet.from_jwks(json.dumps(key_set.to_jwks())) == key_set
    assert all("d" not in jwk for jwk in key_set.to_jwks()["keys"])


@pytest.mark.parametrize("jwk, problem", [
    ({"kty": "OKP", "crv": "X25519", "x": "AA", "kid": "auth.x"}, "Ed25519"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "auth.x", "alg": "HS256"}, "EdDSA"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "nothumbprint"}, "kid"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AA", "kid": "auth.x"}, "valid x"),
])
def test_unusable_public_keys_are_refused(jwk, problem):
    with pytest.raises(KeyMaterialError, match=problem):
        KeySet.from_jwks(json.dumps({"keys": [jwk]}))


def test_a_private_key_that_is_not_ed25519_is_refused():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(KeyMaterialError, match="Ed25519"):
        SigningKey.from_pem("auth", pem)
    with pytest.raises(KeyMaterialError):
        SigningKey.from_pem("auth", "not a pem")


def test_dev_keys_are_made_once_private_files_0600_with_the_public_sets(tmp_path):
    paths = keys.ensure_dev_keys(tmp_path)
    first = {name: path.read_text() for name, path in paths.items()}
    assert keys.ensure_dev_keys(tmp_path) and \
        {name: path.read_text() for name, path in paths.items()} == first
    for name in ("auth-user-token.pem", "profiles-service.pem", "articles-service.pem"):
        assert stat.S_IMODE(paths[name].stat().st_mode) == 0o600
    user = keys.read_public_material(paths["user-token.jwks.json"])
    assert [keys.owner_of(kid) for kid in user.kids] == ["auth"]
    callers = keys.read_public_material(paths["service-keys.jwks.json"])
    assert sorted(keys.owner_of(k) for k in callers.kids) == ["articles", "profiles"]
    assert callers.owned_by(["articles"]).kids == [k for k in callers.kids
                                                   if k.startswith("articles.")]


def test_cli_generate_then_publish_the_new_and_previous_key(tmp_path, capsys):
    assert keys.main(["generate", "auth", str(tmp_path / "old.pem")]) == 0
    assert keys.main(["generate", "auth", str(tmp_path / "new.pem")]) == 0
    kids = capsys.readouterr().out.split()
    assert stat.S_IMODE((tmp_path / "new.pem").stat().st_mode) == 0o600
    assert keys.main(["public", "--owner", "auth", str(tmp_path / "new.pem"),
                      str(tmp_path / "old.pem")]) == 0
    published = capsys.readouterr().out
    assert "PRIVATE" not in published and '"d"' not in published
    assert KeySet.from_jwks(published).kids == sorted(kids)


def test_cli_never_overwrites_a_key_and_needs_an_owner_for_a_pem(tmp_path, capsys):
    path = tmp_path / "k.pem"
    keys.main(["generate", "auth", str(path)])
    before = path.read_text()
    with pytest.raises(SystemExit):
        keys.main(["generate", "auth", str(path)])
    assert path.read_text() == before
    assert keys.main(["public", str(path)]) == 1
    assert "--owner" in capsys.readouterr().err


def test_dev_keys_for_containers_are_readable_in_a_private_directory(tmp_path):
    paths = keys.ensure_dev_keys(tmp_path / "compose", for_containers=True)
    assert stat.S_IMODE((tmp_path / "compose").stat().st_mode) == 0o700
    assert stat.S_IMODE(paths["auth-user-token.pem"].stat().st_mode) == 0o644

"""Ed25519 key material: signing keys, public key sets (JWKS), and their generation.

Two kinds of keys, the same shapes:
- the user-token key: auth signs user tokens with it; every service verifies them
  with the public JWKS (`JWT_PUBLIC_KEYS`);
- service keys: each service whose projector calls another's /internal API signs its
  own short-lived service tokens; an owner verifies them with the public keys of the
  callers it trusts (`SERVICE_PUBLIC_KEYS`).

A key's `kid` is `<owner>.<RFC 7638 thumbprint>` (first 16 characters), derived from the
key itself: it cannot disagree with the key, and the owner prefix tells a verifier of
service tokens which caller the key belongs to (so articles' key cannot speak for
profiles).

Command line (`python -m conduit_common.keys --help`):
  generate OWNER FILE   a new private key, PEM, written with mode 0600
  public [--owner O] FILE...
                        the public JWKS of private PEMs (owned by O) and/or JWK/JWKS
                        files: the set to publish, e.g. the new key plus the previous one
                        during a rotation
  dev [--for-containers] DIR
                        every key a local stack needs, made once (make run, compose)
"""
import argparse
import base64
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# The owner of the user-token key, and who may call whose internal API (the
# projectors: docs/architecture.md, "Call graph", which the NetworkPolicies allow).
# An owner accepts service tokens only from these callers, whatever other keys its
# SERVICE_PUBLIC_KEYS holds: one public set can then be handed to every service.
USER_TOKEN_OWNER = "auth"
INTERNAL_CALLERS: Mapping[str, tuple[str, ...]] = {
    "auth": ("profiles", "articles"),
    "profiles": ("articles",),
}
KID_THUMBPRINT_LENGTH = 16


class KeyMaterialError(ValueError):
    """Key material that cannot be used (malformed, wrong type, private where public)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638: SHA-256 of the required members in lexical order, no whitespace."""
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": _b64(_raw_public(key))},
                           separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def key_id(owner: str, key: Ed25519PublicKey) -> str:
    return f"{owner}.{thumbprint(key)[:KID_THUMBPRINT_LENGTH]}"


def owner_of(kid: str) -> str:
    """The owner a kid names (the part before the thumbprint)."""
    owner, _, rest = kid.rpartition(".")
    return owner if owner and rest else ""


def public_jwk(owner: str, key: Ed25519PublicKey) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(_raw_public(key)),
            "kid": key_id(owner, key), "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key and the kid its tokens carry."""

    owner: str
    private_key: Ed25519PrivateKey

    @property
    def kid(self) -> str:
        return key_id(self.owner, self.private_key.public_key())

    def public_jwk(self) -> dict:
        return public_jwk(self.owner, self.private_key.public_key())

    def pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    @classmethod
    def generate(cls, owner: str) -> "SigningKey":
        return cls(owner, Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, owner: str, pem: str) -> "SigningKey":
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError) as ex:
            raise KeyMaterialError("not an unencrypted PEM private key") from ex
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyMaterialError("the private key must be Ed25519")
        return cls(owner, key)


class KeySet:
    """Public keys by kid, from a JWKS document. Holds no private key, ever."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey] | None = None):
        self._keys = dict(keys or {})

    def __contains__(self, kid: str) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other) -> bool:
        return isinstance(other, KeySet) and {k: _raw_public(v) for k, v in self._keys.items()} \
            == {k: _raw_public(v) for k, v in other._keys.items()}

    def __hash__(self) -> int:
        return hash(frozenset(self._keys))

    def __repr__(self) -> str:
        return f"KeySet({sorted(self._keys)})"

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def get(self, kid: str) -> Ed25519PublicKey | None:
        return self._keys.get(kid)

    def owned_by(self, owners: Iterable[str]) -> "KeySet":
        """The keys whose kid names one of `owners`."""
        owners = set(owners)
        return KeySet({kid: key for kid, key in self._keys.items() if owner_of(kid) in owners})

    @classmethod
    def of(cls, *signing_keys: SigningKey) -> "KeySet":
        return cls({k.kid: k.private_key.public_key() for k in signing_keys})

    @classmethod
    def from_jwks(cls, text: str) -> "KeySet":
        try:
            document = json.loads(text)
        except ValueError as ex:
            raise KeyMaterialError("not a JSON document (a JWKS: {\"keys\": [...]})") from ex
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise KeyMaterialError("a JWKS must be an object with a \"keys\" list")
        keys = {}
        for jwk in document["keys"]:
            kid, key = _parse_public_jwk(jwk)
            if kid in keys:
                raise KeyMaterialError(f"kid {kid} appears twice")
            keys[kid] = key
        return cls(keys)

    def to_jwks(self) -> dict:
        return {"keys": [public_jwk(owner_of(kid), key) | {"kid": kid}
                         for kid, key in sorted(self._keys.items())]}


def _parse_public_jwk(jwk) -> tuple[str, Ed25519PublicKey]:
    if not isinstance(jwk, dict):
        raise KeyMaterialError("each key of a JWKS must be an object")
    if "d" in jwk:
        # A private key pasted into a set every service reads would give every
        # service the power to sign: refuse it loudly rather than ignore it.
        raise KeyMaterialError(f"key {jwk.get('kid')!r} contains a private part ('d'): "
                               "publish only public keys")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise KeyMaterialError(
            f"key {jwk.get('kid')!r} must be an Ed25519 key (kty OKP, crv Ed25519)")
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        raise KeyMaterialError(f"key {jwk.get('kid')!r} must be for EdDSA signatures")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not owner_of(kid):
        raise KeyMaterialError("each key needs a kid of the form <owner>.<thumbprint>")
    try:
        key = Ed25519PublicKey.from_public_bytes(_unb64(str(jwk.get("x", ""))))
    except (ValueError, TypeError) as ex:
        raise KeyMaterialError(f"key {kid!r} has no valid x") from ex
    return kid, key


# ---------------------------------------------------------------- files and the CLI

def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Create or replace `path` readable by its owner only (unless `mode` says more)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, mode)   # O_CREAT's mode is masked by the umask, and ignored on replace


def read_public_material(path: Path, owner: str | None = None) -> KeySet:
    """Public keys from a private PEM (a PEM says nothing of its owner: `owner` does),
    a JWK or a JWKS file."""
    text = path.read_text()
    if "PRIVATE KEY" in text:
        if not owner:
            raise KeyMaterialError(f"{path} is a private key: say whose with --owner")
        return KeySet.of(SigningKey.from_pem(owner, text))
    document = json.loads(text)
    if isinstance(document, dict) and "keys" not in document:
        document = {"keys": [document]}
    return KeySet.from_jwks(json.dumps(document))


def merge(sets: Iterable[KeySet]) -> KeySet:
    keys = {}
    for key_set in sets:
        keys.update({kid: key_set.get(kid) for kid in key_set.kids})
    return KeySet(keys)


def jwks_text(key_set: KeySet) -> str:
    return json.dumps(key_set.to_jwks(), indent=2) + "\n"


def ensure_dev_keys(directory: Path, for_containers: bool = False) -> dict[str, Path]:
    """Every key a local stack needs, in `directory`; existing keys are kept, so a
    restarted stack still accepts the tokens it issued.

    Private keys: `auth-user-token.pem` (auth signs user tokens), `<svc>-service.pem`
    (the projector of each calling service). Public sets, for every service:
    `user-token.jwks.json` and `service-keys.jwks.json` (the callers' keys).
    Private files are 0600: only the processes of this user read them. With
    `for_containers` (compose) they are 0644 in a 0700 directory: a bind-mounted file
    keeps its mode, and the containers' user (10001) is not the file's owner, while
    on the host only the owner can reach the directory.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if for_containers:
        directory.chmod(0o700)
    mode = 0o644 if for_containers else 0o600
    paths = {}

    def private(name: str, owner: str) -> SigningKey:
        path = directory / name
        if not path.exists():
            write_private(path, SigningKey.generate(owner).pem(), mode)
        path.chmod(mode)
        paths[name] = path
        return SigningKey.from_pem(owner, path.read_text())

    def public(name: str, key_set: KeySet) -> None:
        path = directory / name
        path.write_text(jwks_text(key_set))
        paths[name] = path

    public("user-token.jwks.json", KeySet.of(private("auth-user-token.pem", USER_TOKEN_OWNER)))
    callers = sorted({c for cs in INTERNAL_CALLERS.values() for c in cs})
    public("service-keys.jwks.json",
           KeySet.of(*(private(f"{svc}-service.pem", svc) for svc in callers)))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conduit_common.keys",
                                     description="Ed25519 keys for Conduit's tokens")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="a new private key (PEM, mode 0600)")
    gen.add_argument("owner", help="who signs with it: auth (user tokens) or the calling service")
    gen.add_argument("file", type=Path)
    pub = commands.add_parser("public", help="the public JWKS of keys (PEM, JWK or JWKS files)")
    pub.add_argument("--owner", help="whose the private PEMs among FILES are (auth, profiles...)")
    pub.add_argument("files", type=Path, nargs="+",
                     help="private PEMs (only their public part is printed), JWK or JWKS files")
    dev = commands.add_parser("dev", help="every key of a local stack, made once")
    dev.add_argument("--for-containers", action="store_true",
                     help="private files 0644 in a 0700 directory (compose bind-mounts them)")
    dev.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            if args.file.exists():
                parser.error(f"{args.file} exists: keys are never overwritten")
            key = SigningKey.generate(args.owner)
            write_private(args.file, key.pem())
            print(key.kid)
        elif args.command == "public":
            sets = [read_public_material(path, args.owner) for path in args.files]
            sys.stdout.write(jwks_text(merge(sets)))
        else:
            made = ensure_dev_keys(args.directory, args.for_containers)
            for name, path in sorted(made.items()):
                print(f"{name}\t{path}")
    except (KeyMaterialError, OSError, ValueError) as ex:
        print(f"error: {ex}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

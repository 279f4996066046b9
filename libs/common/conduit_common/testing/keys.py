"""Throwaway keys for tests: generated in each test process, never written anywhere.

One user-token key (auth's) and one service key per calling service, wired the way
a deployment wires them (keys.INTERNAL_CALLERS): `service_env` and `projector_env`
give a subprocess exactly the material its role gets.
"""
import json

from conduit_common.keys import INTERNAL_CALLERS, USER_TOKEN_OWNER, KeySet, SigningKey
from conduit_common.service_auth import ServiceTokenSigner
from conduit_common.tokens import TokenCodec

USER_TOKEN_KEY = SigningKey.generate(USER_TOKEN_OWNER)
USER_TOKEN_KEYS = KeySet.of(USER_TOKEN_KEY)
SERVICE_KEYS = {caller: SigningKey.generate(caller)
                for caller in sorted({c for cs in INTERNAL_CALLERS.values() for c in cs})}


SERVICE_PUBLIC_KEYS = KeySet.of(*SERVICE_KEYS.values())


def callers_of(owner: str) -> KeySet:
    """The service keys `owner` accepts on its internal API."""
    return KeySet.of(*(SERVICE_KEYS[c] for c in INTERNAL_CALLERS.get(owner, ())))


def issuing_codec(ttl_seconds: int = 3600) -> TokenCodec:
    """auth's codec: signs user tokens with the test key."""
    return TokenCodec(USER_TOKEN_KEYS, USER_TOKEN_KEY, ttl_seconds)


def verifying_codec() -> TokenCodec:
    """Everyone else's: verifies, cannot sign."""
    return TokenCodec(USER_TOKEN_KEYS)


def service_token(caller: str, audience: str) -> str:
    return ServiceTokenSigner(SERVICE_KEYS[caller], audience).token()


def internal_headers(caller: str, audience: str) -> dict:
    """Headers of an internal call from `caller`'s projector to `audience`."""
    return {"Authorization": f"Bearer {service_token(caller, audience)}"}


def jwks(key_set: KeySet) -> str:
    return json.dumps(key_set.to_jwks())


def service_env(service: str) -> dict:
    """The key variables of a service's API process (auth alone gets a private key)."""
    env = {"JWT_PUBLIC_KEYS": jwks(USER_TOKEN_KEYS),
           "SERVICE_PUBLIC_KEYS": jwks(SERVICE_PUBLIC_KEYS)}
    if service == USER_TOKEN_OWNER:
        env["JWT_PRIVATE_KEY"] = USER_TOKEN_KEY.pem()
    return env


def projector_env(service: str) -> dict:
    """The key variable of a consuming service's projector: its own service key."""
    return {"SERVICE_PRIVATE_KEY": SERVICE_KEYS[service].pem()}


class RecordingEnviron(dict):
    """An environment that remembers every variable name asked for: tests show that a
    process which must not sign never even reads a private key."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, name, default=None):
        self.asked.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.asked.add(name)
        return super().__getitem__(name)

    def private_names_asked(self) -> set[str]:
        return {name for name in self.asked if "PRIVATE" in name}


def every_key_variable() -> dict:
    """The key material of the whole system at once, as a careless deployment might
    hand it to any process: what a process reads from it shows what it uses."""
    return {**service_env("auth"),
            "SERVICE_PRIVATE_KEY": SERVICE_KEYS["articles"].pem(),
            "JWT_PRIVATE_KEY": USER_TOKEN_KEY.pem()}


def deploy_variables() -> dict:
    """The CI variables cluster/deploy.sh turns into the token-key Secrets and ConfigMap."""
    return {"JWT_PRIVATE_KEY": USER_TOKEN_KEY.pem(),
            "JWT_PUBLIC_KEYS": jwks(USER_TOKEN_KEYS),
            "SERVICE_PUBLIC_KEYS": jwks(SERVICE_PUBLIC_KEYS),
            "PROFILES_SERVICE_KEY": SERVICE_KEYS["profiles"].pem(),
            "ARTICLES_SERVICE_KEY": SERVICE_KEYS["articles"].pem()}

"""Password hashing with argon2id; the only module that touches argon2."""
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash, verify and spot outdated hashes. Plain passwords never leave this object."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int = 1):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost,
                                      parallelism=parallelism, type=Type.ID)
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def burn(self, password: str) -> None:
        """Spend the time of a verification, so unknown emails don't answer faster."""
        if self._decoy is None:
            self._decoy = self._hasher.hash("decoy password, never a real one")
        self.verify(self._decoy, password)

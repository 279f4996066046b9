"""Password hashing: argon2id, verification, outdated parameters."""
from conduit_auth.passwords import Passwords


def test_hash_is_argon2id_with_the_configured_cost():
    password_hash = Passwords(time_cost=2, memory_cost=2048).hash("correct horse")

    assert password_hash.startswith("$argon2id$")
    assert "m=2048,t=2" in password_hash


def test_verify_accepts_the_password_and_refuses_any_other():
    passwords = Passwords(time_cost=1, memory_cost=1024)
    password_hash = passwords.hash("correct horse")

    assert passwords.verify(password_hash, "correct horse") is True
    assert passwords.verify(password_hash, "correct horse!") is False


def test_verify_of_a_corrupt_hash_is_false_not_an_error():
    assert Passwords(time_cost=1, memory_cost=1024).verify("not-a-hash", "x") is False


def test_a_hash_made_with_other_parameters_needs_rehash():
    old_hash = Passwords(time_cost=1, memory_cost=1024).hash("correct horse")

    assert Passwords(time_cost=1, memory_cost=2048).needs_rehash(old_hash) is True
    assert Passwords(time_cost=1, memory_cost=1024).needs_rehash(old_hash) is False

"""Read settings from the environment, failing fast with the variable's name."""
import os
from collections.abc import Mapping


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


_MISSING = object()


class Env:
    """Typed access to an environment mapping (os.environ unless given)."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ

    def str(self, name: str, default=_MISSING) -> str:
        value = self._environ.get(name, "")
        if value != "":
            return value
        if default is _MISSING:
            raise ConfigError(f"environment variable {name} is required")
        return default

    def int(self, name: str, default=_MISSING, minimum: int | None = None) -> int:
        raw = self.str(name, None if default is _MISSING else str(default))
        if raw is None:
            raise ConfigError(f"environment variable {name} is required")
        try:
            value = int(raw)
        except ValueError as ex:
            raise ConfigError(f"environment variable {name} must be an integer") from ex
        if minimum is not None and value < minimum:
            raise ConfigError(f"environment variable {name} must be at least {minimum}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        """1/true/yes/on or 0/false/no/off; unset: the default."""
        raw = self.str(name, "").strip().lower()
        if raw == "":
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"environment variable {name} must be 1/true/yes/on or 0/false/no/off")

    def choice(self, name: str, choices: tuple, default: str) -> str:
        value = self.str(name, default).strip().lower()
        if value not in choices:
            raise ConfigError(f"environment variable {name} must be one of {', '.join(choices)}")
        return value

    def optional_int(self, name: str, minimum=None) -> "int | None":
        """An integer if the variable is set, else None."""
        return self.int(name, minimum=minimum) if self.str(name, "") else None

    def float(self, name: str, default: float) -> float:
        raw = self.str(name, str(default))
        try:
            value = float(raw)
        except ValueError as ex:
            raise ConfigError(f"environment variable {name} must be a number") from ex
        if value <= 0:
            raise ConfigError(f"environment variable {name} must be positive")
        return value

    def material(self, name: str, default=_MISSING) -> str:
        """Key material: the value of NAME, or the contents of the file NAME_FILE names
        (k8s Secret volumes, compose secrets, make run's .run/keys). Not both."""
        inline, path = self.str(name, ""), self.str(f"{name}_FILE", "")
        if inline and path:
            raise ConfigError(f"set environment variable {name} or {name}_FILE, not both")
        if path:
            try:
                with open(path, encoding="utf-8") as handle:
                    inline = handle.read()
            except OSError as ex:
                raise ConfigError(f"{name}_FILE: cannot read {path}: {ex.strerror}") from ex
        if inline.strip():
            return inline
        if default is _MISSING:
            raise ConfigError(f"environment variable {name} (or {name}_FILE) is required")
        return default

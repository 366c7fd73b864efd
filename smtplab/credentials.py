"""Credentials whose password can be used but never shown."""

from __future__ import annotations

import base64
import getpass
import os
import sys
from dataclasses import dataclass, field

MASK = "********"


class Secret:
    """A string that prints as a mask; ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a Secret cannot be pickled or copied into saved results")


@dataclass(frozen=True)
class Credentials:
    """A login for the credential check; ``mechanism`` None picks the best offered."""

    username: str
    password: Secret = field(repr=False)
    mechanism: str | None = None

    @classmethod
    def from_env(cls, username: str, variable: str, mechanism: str | None = None) -> Credentials:
        """Read the password from environment variable ``variable``."""
        value = os.environ.get(variable)
        if value is None:
            raise ValueError(f"environment variable {variable} is not set: export the password there")
        return cls(username, Secret(value), mechanism)

    @classmethod
    def from_prompt(cls, username: str, mechanism: str | None = None) -> Credentials:
        """Ask for the password on the terminal without echo, or read one line from a piped stdin."""
        if sys.stdin.isatty():
            password = getpass.getpass(f"Password for {username}: ")
        else:
            # A piped password is one line on stdin; getpass would warn that input may echo.
            password = sys.stdin.readline().rstrip("\r\n")
        return cls(username, Secret(password), mechanism)


def secret_forms(values: list[str]) -> list[str]:
    """Return each secret with its base64 form, longest first, for redaction."""
    forms: set[str] = set()
    for value in values:
        if len(value) < 3:
            continue
        forms.add(value)
        forms.add(base64.b64encode(value.encode()).decode())
    return sorted(forms, key=len, reverse=True)


class Redactor:
    """Replaces every known secret form in a text with the mask."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._forms: list[str] = secret_forms(secrets or [])

    def add(self, *values: str) -> None:
        self._forms = sorted(set(self._forms) | set(secret_forms(list(values))), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def __repr__(self) -> str:
        return f"Redactor({len(self._forms)} forms)"

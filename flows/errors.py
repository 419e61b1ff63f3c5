"""Errors that carry where they come from, so a message names the file and key."""

from __future__ import annotations


class RaqibError(Exception):
    """Base of raqib's own errors."""


class ConfigError(RaqibError):
    """A config file that cannot be used: names the file, the key path and what is wrong.

    The message never contains a secret: callers pass redacted values, and the message is redacted
    again here (a library's text, such as a YAML error, may quote a line holding a password).
    """

    def __init__(self, file: str, key: str | None, message: str) -> None:
        from flows.redact import redact

        self.file = str(file)
        self.key = key
        self.message = redact(message)
        where = f"{self.file}: {key}" if key else self.file
        super().__init__(f"{where}: {self.message}")

"""The error hierarchy: every failure a user can meet, each with its exit code.

The CLI turns these into one line on stderr and the exit code in exactly one
place (``assumer.cli.app.run``); nothing else calls ``sys.exit`` (the console scripts aside).
"""

from __future__ import annotations


class AssumerError(Exception):
    """Base class. ``exit_code`` is what the process exits with."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(AssumerError):
    """Unknown profile, malformed file, source_profile loop, bad ARN, bad value."""

    exit_code = 3


class AuthError(AssumerError):
    """AWS refused: access denied, expired or invalid keys, MFA required or wrong."""

    exit_code = 4


class KeyringError(AssumerError):
    """No usable keyring where one is required, or the keyring is locked or failing."""

    exit_code = 5


class NetworkError(AssumerError):
    """Endpoint unreachable, timed out, or throttled after retries."""

    exit_code = 6


class EngineError(AssumerError):
    """Container engine or registry: missing, daemon down, login or push refused."""

    exit_code = 7


class CommandNotExecutable(AssumerError):
    """``exec``: the command exists but cannot be run (as env(1) does)."""

    exit_code = 126


class CommandNotFound(AssumerError):
    """``exec``: the command is not found (as env(1) does)."""

    exit_code = 127


"""MFA codes: from the command line, from stdin, or a hidden prompt on the terminal.

The prompt talks to ``/dev/tty``, not stdin/stderr: botocore captures a
``credential_process`` child's stderr, so a prompt there would be invisible and
the SDK would hang. Without a terminal it fails at once. A malformed code is
asked for again (:data:`TRIES` times in all), as is a code AWS refuses (by the
resolver, :mod:`assumer.core.session`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from assumer.errors import AuthError, ConfigError

_CODE = r"^\d{6}$"  # text, compiled at first use: a cache hit asks for no code
# How many codes a person may type (malformed, or refused by AWS) before assumer gives up.
TRIES = 3

if TYPE_CHECKING:
    from io import FileIO

CodeSource = Callable[[str, str], str]


class CodeRejected(AuthError):
    """AWS refused the MFA code (wrong, expired or already used): worth asking for another."""


def check_code(code: str, where: str = "--mfa-code") -> str:
    """An MFA code is six digits; anything else is a bad value (exit 3), caught before STS."""
    code = code.strip()
    if not re.match(_CODE, code):
        raise ConfigError(f"{where}: an MFA code is 6 digits", hint="type the current code from the device")
    return code


def prompt_on_tty(serial: str, profile: str) -> str:
    """Ask for the code on the controlling terminal with echo off; a malformed code is asked for again."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise AuthError(
            f"profile {profile!r} needs an MFA code and there is no terminal to ask on",
            hint="pass --mfa-code CODE (or --mfa-code - to read it from stdin)",
        ) from None
    with open(fd, "r+b", buffering=0) as tty:
        for attempt in range(1, TRIES + 1):
            line = _read_hidden(tty, f"MFA code for {serial} ({profile}): ")
            if not line:
                raise AuthError(f"no MFA code was entered for profile {profile!r}", hint="pass --mfa-code CODE")
            try:
                return check_code(line.decode(errors="replace"), "the MFA prompt")
            except ConfigError:
                if attempt == TRIES:
                    raise
                tty.write(b"an MFA code is 6 digits; try again\n")
    raise AssertionError("unreachable")  # the loop returns or raises


def _read_hidden(tty: FileIO, prompt: str) -> bytes:
    """One line from the terminal with echo off (restored even on Ctrl-C)."""
    import termios

    fd = tty.fileno()
    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[3] &= ~termios.ECHO
    try:
        # Echo off before the prompt appears, and no flush: TCSAFLUSH would discard a
        # code typed (or pasted) the moment the prompt shows.
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
        tty.write(prompt.encode())
        line = tty.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
        tty.write(b"\n")
    return line

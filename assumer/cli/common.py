"""What the command modules share: the session options, profile completion, output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from assumer.errors import AssumerError, ConfigError

if TYPE_CHECKING:  # the core is imported when a command runs, not when the CLI loads
    from typing import TypedDict

    from click.shell_completion import CompletionItem

    from assumer.core.session import Session, SessionOptions

    class SessionKwargs(TypedDict, total=False):
        """What :func:`session_options` adds to a command's keyword arguments."""

        duration: int | None
        mfa_code: str | None
        refresh: bool
        no_cache: bool
        region: str | None
        source_profile: str | None

CONTEXT = {"help_option_names": ["-h", "--help"]}

F = TypeVar("F", bound=Callable[..., object])


def complete_profiles(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Profile names from the AWS config that start with what was typed."""
    from click.shell_completion import CompletionItem

    from assumer.core.profiles import AwsConfig

    try:
        names = AwsConfig.load().profile_names()
    except AssumerError:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def profile_argument(*, required: bool = True) -> Callable[[F], F]:
    """The PROFILE argument, completed from the AWS config."""
    return click.argument("profile", required=required, shell_complete=complete_profiles)


def source_options(command: F) -> F:
    """``--region`` and ``--source-profile``: what picks the session without fetching it."""
    command = click.option("--source-profile", metavar="PROFILE",
                           help="With a role ARN as PROFILE: whose credentials assume it.")(command)
    return click.option("--region", metavar="REGION", help="Region for the session (default: the profile's).")(command)


def session_options(command: F) -> F:
    """The options every command that hands out a session takes."""
    command = source_options(command)
    command = click.option("--no-cache", is_flag=True, help="Neither read nor write the keyring cache.")(command)
    command = click.option("--refresh", is_flag=True,
                           help="Ignore the cached session and assume the role again.")(command)
    command = click.option("--mfa-code", metavar="CODE",
                           help="MFA code; '-' reads it from stdin. Default: ask on the terminal.")(command)
    return click.option("--duration", type=click.IntRange(1), metavar="SECONDS",
                        help="Session lifetime (900-43200; default: the profile's duration_seconds, "
                             "else 3600).")(command)


def options_from(kwargs: SessionKwargs) -> SessionOptions:
    """Take the session options out of a command's ``kwargs`` (the MFA code checked, ``-`` read from stdin)."""
    from assumer.core.mfa import check_code
    from assumer.core.session import SessionOptions

    code = kwargs.pop("mfa_code", None)
    if code == "-":
        code = read_stdin_line().strip()
        if not code:
            raise ConfigError("--mfa-code -: stdin held no MFA code", hint="pipe the 6-digit code in")
    if code is not None:  # a bad code is a bad value whether or not the profile needs one
        code = check_code(code, "--mfa-code")
    return SessionOptions(
        duration=kwargs.pop("duration", None),
        mfa_code=code,
        refresh=kwargs.pop("refresh", False),
        no_cache=kwargs.pop("no_cache", False),
        region=kwargs.pop("region", None),
        source_profile=kwargs.pop("source_profile", None),
    )


def read_stdin_line() -> str:
    """One line of stdin, and not a byte more: ``exec``'s command reads the rest.

    ``sys.stdin.readline()`` would fill its buffer first (up to 8 KiB from a pipe,
    the whole of a small file), and that input would be lost to the command.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner)
        return sys.stdin.readline()
    line = bytearray()
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line.decode(errors="replace")


def session_for(profile: str, options: SessionOptions) -> Session:
    """Fetch PROFILE's session (through the cache) for a command."""
    from assumer.core import session

    return session.get_session(profile, options)


def write_stdout(text: str) -> None:
    """What is meant to be consumed (shell code, JSON, a password, a reference) goes to stdout, nothing else."""
    sys.stdout.write(text)
    sys.stdout.flush()

"""What the command modules share: the session options, profile completion, output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import click

from assumer.errors import AssumerError, ConfigError

if TYPE_CHECKING:  # the core is imported when a command runs, not when the CLI loads
    from typing import TypedDict

    from click.shell_completion import CompletionItem

    from assumer.core.profiles import AwsConfig
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


# click's ParamType is generic for type checkers only in recent releases; at run time the
# plain class is the base, so older click (>= 8.1, the declared minimum) works too.
if TYPE_CHECKING:
    _IntParamType = click.ParamType[int, object]
else:
    _IntParamType = click.ParamType


class DurationType(_IntParamType):
    """``--duration``: seconds, or ``1h``, ``90m``, ``1h30m``, ``3600s``."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from assumer.cli.durations import parse_duration

        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DURATION = DurationType()

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
    return click.option("--duration", type=DURATION, metavar="DURATION",
                        help="Session lifetime, 900-43200 seconds: 3600, 3600s, 90m, 1h, 1h30m (default: the "
                             "profile's duration_seconds, else 1h).")(command)


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


# Beyond this many, the list of profiles in a usage error points at `assumer list` instead.
LISTED_PROFILES = 40


def missing_profile(what: str = "PROFILE") -> click.UsageError:
    """The usage error (exit 2) for a command run without a profile: the profiles to choose from."""
    from assumer.core.profiles import AwsConfig

    try:
        names = AwsConfig.load().profile_names()
    except AssumerError as exc:
        return click.UsageError(f"missing {what} (and the AWS config cannot be read: {exc})")
    if not names:
        return click.UsageError(f"missing {what}; the AWS config defines no profile yet")
    shown = ", ".join(names[:LISTED_PROFILES])
    hidden = len(names) - LISTED_PROFILES
    more = f" and {hidden} more ('assumer list' shows them all)" if hidden > 0 else ""
    return click.UsageError(f"missing {what}; profiles: {shown}{more}")


def profile_in_use(environ: Mapping[str, str]) -> str | None:
    """The profile of the session assumer exported into this shell, if the keys there are still its own."""
    from assumer.core.roots import own_session_in

    return environ.get("ASSUMER_PROFILE") or None if own_session_in(environ) else None


def choose_profile(what: str = "PROFILE") -> str:
    """No PROFILE given: the picker when a person is at a terminal, else the usage error listing the profiles."""
    from assumer.cli import picker
    from assumer.core.profiles import AwsConfig

    if sys.stdin.isatty() or sys.stderr.isatty():  # a person is there (stdout may be captured by eval)
        try:
            config = AwsConfig.load()
            names = config.profile_names()
        except AssumerError:
            names = []
        if names:
            try:
                return picker.pick([picker.Choice(name, profile_summary(config, name)) for name in names])
            except OSError:  # no controlling terminal after all
                pass
    raise missing_profile(what)


def profile_summary(config: AwsConfig, name: str) -> str:
    """What tells similar profile names apart in the picker: role and account, or the kind of credentials."""
    settings = config.settings(name)
    role = settings.get("role_arn")
    region = settings.get("region")
    where = f" ({region.text})" if region and region.text else ""
    if role and role.text.count(":") >= 5:
        parts = role.text.split(":", 5)
        return f"{parts[5].removeprefix('role/')} @ {parts[4]}{where}"
    kinds = (("sso_session", "SSO"), ("sso_start_url", "SSO"), ("credential_process", "credential_process"),
             ("web_identity_token_file", "web identity"), ("aws_access_key_id", "keys"))
    kind = next((label for key, label in kinds if key in settings), "")
    return f"{kind}{where}".strip()


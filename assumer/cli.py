"""The command line: parse, call the core, render, map errors to exit codes.

Only click and light modules are imported at start-up; boto3 and keyring are
imported by the core when (and only when) a command needs them.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from typing import Any, Callable, NoReturn

import click

from assumer import __version__, ui
from assumer.render import SHELLS
from assumer.errors import AssumerError, ConfigError, KeyringError

CONTEXT = {"help_option_names": ["-h", "--help"]}


def complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Profile names from the AWS config that start with what was typed."""
    from click.shell_completion import CompletionItem

    from assumer.profiles import AwsConfig

    try:
        names = AwsConfig.load().profile_names()
    except AssumerError:
        return []
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def session_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that hands out a session takes."""
    options = [
        click.option("--duration", type=click.IntRange(1), metavar="SECONDS",
                     help="Session lifetime (900-43200; default: the profile's duration_seconds, else 3600)."),
        click.option("--mfa-code", metavar="CODE", help="MFA code; '-' reads it from stdin. Default: ask on the terminal."),
        click.option("--refresh", is_flag=True, help="Ignore the cached session and assume the role again."),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the keyring cache."),
        click.option("--region", metavar="REGION", help="Region for the session (default: the profile's)."),
        click.option("--source-profile", metavar="PROFILE", help="With a role ARN as PROFILE: whose credentials assume it."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _options(kwargs: dict[str, Any]):  # type: ignore[no-untyped-def]
    from assumer.mfa import check_code
    from assumer.session import SessionOptions

    code = kwargs.pop("mfa_code", None)
    if code == "-":
        code = _read_stdin_line().strip()
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


def _read_stdin_line() -> str:
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


def get_session(profile: str, kwargs: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Parse the session options out of ``kwargs`` and fetch the session (used by the ECR commands too)."""
    from assumer import session

    return session.get_session(profile, _options(kwargs))


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="assumer")
@click.option("--debug", is_flag=True, help="Log to stderr (secrets redacted), tracebacks included.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """AWS role credentials for the shell, cached in the OS keyring.

    \b
      eval "$(assumer env PROFILE)"     set the credentials in this shell
      assumer exec PROFILE -- CMD       run one command with them
      credential_process = assumer credential-process PROFILE
    """
    ctx.obj = {"debug": debug}
    if debug:
        from assumer import logs

        logs.enable_debug()


@cli.command("env")
@click.argument("profile", required=False, shell_complete=complete_profiles)
@click.option("--shell", "shell", type=click.Choice(SHELLS), default=None,
              help="Output syntax (default: from $SHELL, else bash).")
@click.option("--unset", is_flag=True, help="Print the lines that remove every variable assumer sets.")
@session_options
def env_command(profile: str | None, shell: str | None, unset: bool, **kwargs: Any) -> None:
    """Print the lines that set PROFILE's credentials: eval "$(assumer env PROFILE)"."""
    from assumer import render

    shell = shell or render.default_shell(os.environ)
    if unset:
        if profile:
            raise click.UsageError("--unset takes no PROFILE")
        if shell in ("dotenv", "json"):
            raise click.UsageError(f"--unset has nothing to print for --shell {shell}")
        _out(render.render_unset(shell))
        return
    if not profile:
        raise click.UsageError("missing PROFILE (or --unset)")
    found = get_session(profile, kwargs)
    variables = render.session_variables(found.credentials, found.profile, found.region)
    _out(render.render(variables, render.variables_to_unset(variables), shell))


class ExecCommand(click.Command):
    """``exec``'s parsing: with ``--``, assumer's options may stand anywhere before it
    (``assumer exec r --duration 1800 -- cmd``); without it, the command starts at the
    first word after PROFILE, so its own options (``ls -la``, ``aws --region``) stay its own.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" not in args:
            ctx.allow_interspersed_args = False
            return super().parse_args(ctx, args)
        split = args.index("--")
        rest = super().parse_args(ctx, args[:split])
        ctx.params["command"] = (*(ctx.params.get("command") or ()), *args[split + 1:])
        return rest


@cli.command("exec", cls=ExecCommand)
@click.argument("profile", shell_complete=complete_profiles)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@session_options
def exec_command(profile: str, command: tuple[str, ...], **kwargs: Any) -> None:
    """Run COMMAND (default: $SHELL) with PROFILE's credentials; its exit status is assumer's."""
    from assumer import process, render

    found = get_session(profile, kwargs)
    variables = render.session_variables(found.credentials, found.profile, found.region)
    env = process.child_environment(os.environ, variables, render.variables_to_unset(variables))
    argv = list(command) or process.default_command(os.environ)
    process.exec_command(argv, env)


@cli.command("credential-process")
@click.argument("profile", shell_complete=complete_profiles)
@session_options
def credential_process_command(profile: str, **kwargs: Any) -> None:
    """Print the credential_process JSON (Version 1) for AWS SDKs and the AWS CLI."""
    from assumer import render

    _out(render.credential_process_json(get_session(profile, kwargs).credentials))


@cli.command("whoami")
@click.argument("profile", shell_complete=complete_profiles)
@session_options
def whoami_command(profile: str, **kwargs: Any) -> None:
    """Show the account and ARN behind PROFILE's session, its expiry, cached or fresh."""
    from assumer import sts
    from assumer.credentials import format_timestamp, utcnow

    found = get_session(profile, kwargs)
    identity = sts.caller_identity(found.credentials, region=found.region, profile=found.config_profile,
                                   label=profile)
    lines = [f"Profile:  {profile}", f"Account:  {identity['Account']}", f"Arn:      {identity['Arn']}"]
    if found.credentials.expiration is not None:
        minutes = int(found.credentials.seconds_left(utcnow()) // 60)
        lines.append(f"Expires:  {format_timestamp(found.credentials.expiration)} (in {minutes} min)")
    lines.append(f"Session:  {'cached' if found.cached else 'fresh'}")
    _out("\n".join(lines) + "\n")


@cli.command("list")
def list_command() -> None:
    """List profiles, their roles and cached-session expiry (never a secret)."""
    from assumer.cache import Index
    from assumer.credentials import parse_timestamp, utcnow
    from assumer.profiles import AwsConfig

    config = AwsConfig.load()
    expiry: dict[str, datetime] = {}
    for meta in Index().load().values():
        if meta.get("kind") != "session" or not meta.get("expiration"):
            continue
        try:
            moment = parse_timestamp(meta["expiration"])
        except ValueError:
            continue
        name = meta.get("profile", "")
        if name not in expiry or moment > expiry[name]:
            expiry[name] = moment
    now = utcnow()
    rows = [("PROFILE", "ROLE", "SESSION")]
    for name in config.profile_names():
        role = config.settings(name).get("role_arn")
        moment = expiry.get(name)
        if moment is None:
            state = "-"
        elif moment <= now:
            state = "expired"
        else:
            state = f"{int((moment - now).total_seconds() // 60)} min left"
        rows.append((name, role.text if role else "-", state))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    _out("".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}\n" for r in rows))


@cli.command("clear")
@click.argument("profile", required=False, shell_complete=complete_profiles)
@click.option("--all", "everything", is_flag=True, help="Remove every cached session and token.")
def clear_command(profile: str | None, everything: bool) -> None:
    """Remove cached sessions and tokens (never long-term keys)."""
    from assumer.cache import Index, clear
    from assumer.store import SESSION_SERVICE, KeyringStore

    if bool(profile) == everything:
        raise click.UsageError("name a PROFILE or pass --all")
    cleared = clear(Index(), KeyringStore(SESSION_SERVICE), profile=None if everything else profile)
    ui.info(f"cleared cached sessions for: {', '.join(cleared)}" if cleared else "nothing cached to clear")


@cli.command("add")
@click.argument("profile", shell_complete=complete_profiles)
def add_command(profile: str) -> None:
    """Store PROFILE's long-term keys in the keyring (hidden prompt, or two lines on stdin)."""
    from assumer import keys
    from assumer.profiles import AwsConfig

    if sys.stdin.isatty():
        key_id = click.prompt("Access key ID", err=True)
        secret = click.prompt("Secret access key", hide_input=True, err=True)
    else:
        lines = sys.stdin.read().splitlines()
        key_id, secret = (lines + ["", ""])[:2]
    keys.add(profile, key_id, secret)
    ui.info(f"stored the keys of profile {profile!r} in the keyring (service 'assumer-keys')")
    if not AwsConfig.load().exists(profile):
        ui.warn(f"there is no [profile {profile}] in the AWS config yet; add one so roles can name it")


@cli.command("remove")
@click.argument("profile", shell_complete=complete_profiles)
def remove_command(profile: str) -> None:
    """Delete PROFILE's long-term keys from the keyring."""
    from assumer import keys

    if not keys.remove(profile):
        raise KeyringError(f"no keys stored for profile {profile!r}", hint="'assumer add PROFILE' stores them")
    ui.info(f"removed the keys of profile {profile!r} from the keyring")


@cli.command("shell-init")
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
def shell_init_command(shell: str) -> None:
    """Print the shell integration: eval "$(assumer shell-init bash)", or '| source' in fish."""
    from assumer import shellinit

    _out(shellinit.script(shell))


def _out(text: str) -> None:
    """Write what is meant to be consumed to stdout."""
    sys.stdout.write(text)
    sys.stdout.flush()


def _register_extensions() -> None:
    from assumer import cli_ecr

    cli_ecr.register(cli)


_register_extensions()


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the command and exit with the documented code."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    debug = _debug_requested(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=argv, prog_name="assumer", standalone_mode=False)
        code = 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        ui.info("interrupted")
        code = 130
    except KeyboardInterrupt:
        ui.info("interrupted")
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except AssumerError as exc:
        _report(exc, debug)
        code = exc.exit_code
    except BrokenPipeError:  # the reader of stdout went away (assumer env r | head)
        code = 1
    except Exception as exc:  # a bug: one line, and the traceback with --debug
        _report(exc, debug)
        code = 1
    _exit(code)


def _debug_requested(argv: list[str]) -> bool:
    """``--debug`` among the group options (before the command), not in a command's own arguments."""
    for word in argv:
        if word == "--debug":
            return True
        if not word.startswith("-"):
            return False
    return False


def _report(exc: BaseException, debug: bool) -> None:
    from assumer import logs

    if debug:
        import traceback

        sys.stderr.write(logs.redact("".join(traceback.format_exception(exc))))
    if isinstance(exc, AssumerError):
        line = f"assumer: error: {exc}"
    else:
        line = f"assumer: internal error: {type(exc).__name__}: {exc} (a bug; --debug shows the traceback)"
    sys.stderr.write(logs.redact(line) + "\n")
    sys.stderr.flush()


def _exit(code: int) -> NoReturn:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        # The reader went away (assumer env r | head): nothing left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(code)

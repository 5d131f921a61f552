"""Commands that hand out a session: env, exec, credential-process, whoami."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from assumer.cli.common import (
    choose_profile,
    missing_profile,
    options_from,
    profile_argument,
    profile_in_use,
    session_for,
    session_options,
    write_stdout,
)
from assumer.cli.render import SHELLS

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from assumer.cli.common import SessionKwargs
    from assumer.core.session import Session, SessionOptions


@click.command("env")
@profile_argument(required=False)
@click.option("--shell", "shell", type=click.Choice(SHELLS), default=None,
              help="Output syntax (default: from $SHELL, else bash).")
@click.option("--unset", is_flag=True, help="Print the lines that remove every variable assumer sets.")
@session_options
def env_command(profile: str | None, shell: str | None, unset: bool, **kwargs: Unpack[SessionKwargs]) -> None:
    """Print the lines that set PROFILE's credentials: eval "$(assumer env PROFILE)"."""
    from assumer.cli import render

    shell = shell or render.default_shell(os.environ)
    if unset:
        if profile:
            raise click.UsageError("--unset takes no PROFILE")
        if shell in ("dotenv", "json"):
            raise click.UsageError(f"--unset has nothing to print for --shell {shell}")
        write_stdout(render.render_unset(shell))
        return
    if not profile:
        profile = choose_profile("PROFILE (or --unset)")
    found = session_for(profile, options_from(kwargs))
    variables = render.session_variables(found.credentials, found.profile, found.region, found.role_arn)
    write_stdout(render.render(variables, render.variables_to_unset(variables), shell))


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


@click.command("exec", cls=ExecCommand)
@profile_argument(required=False)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.option("--server", is_flag=True,
              help="Serve the credentials from a local endpoint that renews them, for commands that outlive "
                   "a session (assumer stays the parent).")
@session_options
def exec_command(profile: str | None, command: tuple[str, ...], server: bool,
                 **kwargs: Unpack[SessionKwargs]) -> None:
    """Run COMMAND (default: $SHELL) with PROFILE's credentials; its exit status is assumer's."""
    from assumer.cli import process, render

    profile = profile or choose_profile()
    options = options_from(kwargs)
    found = session_for(profile, options)
    argv = list(command) or process.default_command(os.environ)
    parent = profile_in_use(os.environ) if "ASSUMER_PROFILE" in os.environ else None
    if not command:
        _say_subshell(argv[0], found, nested_in=parent)
    if server:
        raise click.exceptions.Exit(_run_with_server(argv, found, options, parent=parent))
    variables = render.session_variables(found.credentials, found.profile, found.region, found.role_arn)
    # The shell's prompt segment (assumer_prompt) shows the nesting: "parent > profile".
    nesting = {process.PARENT_VARIABLE: parent} if parent else {}
    env = process.child_environment(os.environ, {**variables, **nesting},
                                    [*render.variables_to_unset(variables), process.PARENT_VARIABLE])
    process.replace_process(argv, env)


def _run_with_server(argv: list[str], found: Session, options: SessionOptions, *, parent: str | None) -> int:
    """``exec --server``: the child asks a local endpoint for credentials, renewed while it runs."""
    from assumer.cli import credserver, process
    from assumer.core.session import get_session
    from assumer.credentials import Credentials, min_ttl
    from assumer.errors import AuthError

    environ = dict(os.environ)
    hidden = check_server_chain(environ)
    renewal = options._replace(refresh=False, mfa_code=None)  # a code is good once

    def no_prompt(serial: str, profile: str) -> str:
        # The command holds the terminal (and a background read of it would stop assumer): a renewal
        # never prompts. The cached MFA session serves it; once that has expired, the endpoint answers
        # this error until a code is entered elsewhere.
        raise AuthError(f"renewing the session of profile {profile!r} needs a new MFA code for {serial}",
                        hint=f"run 'assumer env {found.profile}' in another terminal to enter one")

    def renew() -> Credentials:
        return get_session(found.profile, renewal, mfa_prompt=no_prompt).credentials

    with credserver.CredentialServer(found.credentials, renew, label=found.profile, min_ttl=min_ttl()) as server:
        env = process.server_environment(environ, url=server.url, token=server.token, region=found.region,
                                         profile=found.profile, hide_credentials_file=hidden, parent=parent)
        return process.run_in_foreground(argv, env)


def check_server_chain(environ: dict[str, str]) -> bool:
    """Whether the child must not see the credentials file: SDKs read ``[default]`` before the endpoint.

    Keys for ``[default]`` in the credentials file are hidden from the child (True, said
    once); a ``[default]`` in the config file that supplies credentials is refused, as
    hiding that file would take the rest of the user's settings with it.
    """
    from assumer import ui
    from assumer.core.profiles import AwsConfig, config_paths
    from assumer.errors import ConfigError

    config = AwsConfig.load(environ)
    if not config.exists("default"):
        return False
    credentials_path = config_paths(environ)[1]
    supplying = {key: value for key, value in config.settings("default").items() if key in _DEFAULT_SUPPLIERS}
    from_config = sorted(key for key, value in supplying.items() if value.path != credentials_path)
    if from_config:
        where = supplying[from_config[0]].where
        raise ConfigError(f"{where}: the [default] profile supplies credentials ({', '.join(from_config)}), which "
                          "SDKs use before the credentials server of exec --server",
                          hint="move that setting to a named profile, or run exec without --server")
    if supplying:
        ui.info(f"the command does not see {credentials_path}: its [default] keys would come before the "
                "credentials server")
        return True
    return False


# What makes botocore's chain stop at the [default] profile before it asks a container endpoint.
_DEFAULT_SUPPLIERS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token",
                      "credential_process", "role_arn", "web_identity_token_file", "sso_session", "sso_start_url",
                      "credential_source")


def _say_subshell(shell: str, found: Session, *, nested_in: str | None) -> None:
    """A subshell starts silently otherwise: say whose credentials it holds, until when, how to leave."""
    from assumer import ui
    from assumer.credentials import utcnow

    expiry = ""
    if found.credentials.expiration is not None:
        minutes = int(found.credentials.seconds_left(utcnow()) // 60)
        expiry = f", expiring {found.credentials.expiration:%H:%M} UTC (in {minutes} min)"
    nested = f", nested inside the session of {nested_in!r}" if nested_in else ""
    ui.info(f"starting {os.path.basename(shell)} with the credentials of profile {found.profile!r}{expiry}{nested}; "
            "'exit' leaves it")


@click.command("credential-process")
@profile_argument()
@session_options
def credential_process_command(profile: str, **kwargs: Unpack[SessionKwargs]) -> None:
    """Print the credential_process JSON (Version 1) for AWS SDKs and the AWS CLI."""
    from assumer.cli import render

    write_stdout(render.credential_process_json(session_for(profile, options_from(kwargs)).credentials))


@click.command("whoami")
@profile_argument(required=False)
@session_options
def whoami_command(profile: str | None, **kwargs: Unpack[SessionKwargs]) -> None:
    """Show the account and ARN behind PROFILE's session (default: the one in use), its expiry, cached or fresh."""
    from assumer.core import sts
    from assumer.credentials import format_timestamp, utcnow

    profile = profile or profile_in_use(os.environ)
    if not profile:
        raise missing_profile("PROFILE (no session of assumer's is in use in this shell)")
    found = session_for(profile, options_from(kwargs))
    identity = sts.caller_identity(found.credentials, region=found.region, profile=found.config_profile,
                                   label=profile)
    lines = [f"Profile:  {profile}", f"Account:  {identity['Account']}", f"Arn:      {identity['Arn']}"]
    if found.credentials.expiration is not None:
        minutes = int(found.credentials.seconds_left(utcnow()) // 60)
        lines.append(f"Expires:  {format_timestamp(found.credentials.expiration)} (in {minutes} min)")
    lines.append(f"Session:  {'cached' if found.cached else 'fresh'}")
    write_stdout("\n".join(lines) + "\n")

"""``assumer login``: open the AWS console with a profile's session."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import click

from assumer import ui
from assumer.cli.common import (
    choose_profile,
    options_from,
    profile_argument,
    session_for,
    session_options,
    write_stdout,
)
from assumer.errors import ConfigError

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from assumer.cli.common import SessionKwargs
    from assumer.core.profiles import Link, RoleSpec, Source
    from assumer.core.session import SessionOptions
    from assumer.credentials import Credentials


@click.command("login")
@profile_argument(required=False)
@click.option("--print", "print_url", is_flag=True,
              help="Print the sign-in URL on stdout instead of opening a browser (whoever holds it is signed in, "
                   "for 15 minutes).")
@click.option("--destination", metavar="URL|PATH",
              help="Console page to open: a URL, or a service path such as s3 or ec2/home (default: the console's "
                   "home, in the profile's region).")
@session_options
def login_command(profile: str | None, print_url: bool, destination: str | None,
                  **kwargs: Unpack[SessionKwargs]) -> None:
    """Open the AWS console signed in with PROFILE's session (the role session from the keyring cache)."""
    from assumer.core import federation, sts
    from assumer.core.profiles import RoleSpec
    from assumer.core.session import resolve

    profile = profile or choose_profile()
    options = options_from(kwargs)
    target = resolve(profile, options)
    role_arn = target.role_arn if isinstance(target, RoleSpec) else None
    partition = federation.partition_of(role_arn=role_arn, region=target.region)
    endpoint = federation.federation_endpoint(partition, os.environ)
    if not print_url:
        check_browser(os.environ, sys.platform)  # before any AWS call: nothing to open it in
    page = federation.destination_url(partition, target.region, destination)
    credentials, console_duration = _console_session(profile, target, options)
    token = federation.signin_token(credentials, endpoint=endpoint, session_duration=console_duration,
                                    timeout=sts.time_bounds()[1])
    url = federation.login_url(endpoint, token, destination=page)
    if print_url:
        write_stdout(url + "\n")
        return
    import webbrowser

    if not webbrowser.open(url, new=2):
        raise ConfigError("no browser could be started for the sign-in URL",
                          hint="set $BROWSER to a browser command, or pass --print")
    ui.info(f"opened the AWS console for profile {profile!r} in the browser (the sign-in link works for 15 min)")


def check_browser(environ: Mapping[str, str], platform: str) -> None:
    """Refuse to start a browser where Python would fall back to one that takes over the terminal."""
    graphical = bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")) or platform in ("darwin", "win32")
    if not graphical and not environ.get("BROWSER"):
        raise ConfigError("no browser to open the AWS console in: there is no graphical session and $BROWSER "
                          "is unset", hint="pass --print to print the sign-in URL instead")


def _console_session(profile: str, target: Link, options: SessionOptions) -> tuple[Credentials, int | None]:
    """The session to sign in with, and the SessionDuration to ask for (None: not allowed for it)."""
    from assumer.core.profiles import RoleSpec

    if isinstance(target, RoleSpec):
        credentials = session_for(profile, options).credentials
        # AWS accepts SessionDuration only for a role assumed with long-term keys.
        duration = target.duration_seconds if _assumed_with_long_term_keys(target) else None
        return credentials, duration
    return _federated(profile, target, options), None


def _assumed_with_long_term_keys(spec: RoleSpec) -> bool:
    from assumer.core.profiles import AwsConfig, RoleSpec

    if isinstance(spec.source, RoleSpec):  # role chaining
        return False
    root = spec.source
    if root.kind == "environment":
        return not os.environ.get("AWS_SESSION_TOKEN")
    temporary = ("credential_process", "sso_session", "sso_start_url", "web_identity_token_file")
    return not any(key in AwsConfig.load().settings(root.profile) for key in temporary)


def _federated(profile: str, source: Source, options: SessionOptions) -> Credentials:
    """A profile without a role: its own temporary session, else a GetFederationToken one from its keys."""
    from assumer.core import federation
    from assumer.core.cachekey import default_session_name
    from assumer.core.profiles import AwsConfig
    from assumer.core.roots import root_credentials
    from assumer.core.session import config_profile
    from assumer.store.backends import KEYS_SERVICE, KeyringStore

    root = root_credentials(source, keys=KeyringStore(KEYS_SERVICE), config=AwsConfig.load(), environ=os.environ)
    if root.session_token:  # already a temporary session (SSO, credential_process, exported by hand)
        return root
    if source.mfa_serial:
        ui.warn(f"profile {profile!r} uses MFA, which the console session does not carry over: a GetSessionToken "
                "session cannot sign in, so it federates from the long-term keys")
    return federation.federation_session(
        root, name=federation.federated_user_name(default_session_name()),
        duration=options.duration or federation.DEFAULT_FEDERATION_DURATION,
        region=source.region, profile=config_profile(source), label=profile)

"""Commands that manage what assumer keeps: list, clear, add, remove, shell-init."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click

from assumer import ui
from assumer.cli.common import profile_argument, write_stdout
from assumer.errors import ConfigError, KeyringError

if TYPE_CHECKING:
    from assumer.credentials import Credentials


@click.command("list")
def list_command() -> None:
    """List profiles, their roles and cached-session expiry (never a secret)."""
    from assumer.core.profiles import AwsConfig
    from assumer.credentials import parse_timestamp, utcnow
    from assumer.store.cache import Index, row_profiles

    config = AwsConfig.load()
    expiry: dict[str, datetime] = {}
    for meta in Index().load().values():
        expiration = meta.get("expiration")
        if meta.get("kind") != "session" or not expiration or not isinstance(expiration, str):
            continue
        try:
            moment = parse_timestamp(expiration)
        except ValueError:
            continue
        for name in row_profiles(meta):
            if name not in expiry or moment > expiry[name]:
                expiry[name] = moment
    now = utcnow()
    rows = [("PROFILE", "ROLE", "SESSION")]
    for name in config.profile_names():
        role = config.settings(name).get("role_arn")
        expires = expiry.get(name)
        if expires is None:
            state = "-"
        elif expires <= now:
            state = "expired"
        else:
            state = f"{int((expires - now).total_seconds() // 60)} min left"
        rows.append((name, role.text if role else "-", state))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    write_stdout("".join(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}\n" for r in rows))


@click.command("clear")
@profile_argument(required=False)
@click.option("--all", "everything", is_flag=True, help="Remove every cached session and token.")
def clear_command(profile: str | None, everything: bool) -> None:
    """Remove cached sessions and tokens (never long-term keys)."""
    from assumer.store.backends import SESSION_SERVICE, KeyringStore
    from assumer.store.cache import Index, clear

    if bool(profile) == everything:
        raise click.UsageError("name a PROFILE or pass --all")
    keys = [] if profile is None else _current_keys(profile)
    cleared = clear(Index(), KeyringStore(SESSION_SERVICE), profile=None if everything else profile, keys=keys)
    ui.info(f"cleared cached sessions for: {', '.join(cleared)}" if cleared else "nothing cached to clear")


def _current_keys(profile: str) -> list[str]:
    """The cache key ``profile`` makes now (shared by any profile with the same settings)."""
    from assumer.core.cachekey import session_key
    from assumer.core.profiles import AwsConfig
    from assumer.core.session import SessionOptions, resolve
    from assumer.errors import ConfigError

    try:
        config = AwsConfig.load()
        target = resolve(profile, SessionOptions(), config=config)
    except ConfigError:  # gone from the config, or broken: the index rows that name it are all there is
        return []
    return [session_key(target, environ=os.environ, config=config)]


@click.command("add")
@profile_argument()
def add_command(profile: str) -> None:
    """Store PROFILE's long-term keys in the keyring (hidden prompt, or two lines on stdin)."""
    from assumer.core.profiles import AwsConfig
    from assumer.store import longterm

    if sys.stdin.isatty():
        key_id = click.prompt("Access key ID", err=True)
        secret = click.prompt("Secret access key", hide_input=True, err=True)
    else:
        lines = sys.stdin.read().splitlines()
        key_id, secret = [*lines, "", ""][:2]
    longterm.store_keys(profile, key_id, secret)
    ui.info(f"stored the keys of profile {profile!r} in the keyring (service 'assumer-keys')")
    _clear_derived(profile)
    if not AwsConfig.load().exists(profile):
        ui.warn(f"there is no [profile {profile}] in the AWS config yet; add one so roles can name it")


@click.command("remove")
@profile_argument()
def remove_command(profile: str) -> None:
    """Delete PROFILE's long-term keys from the keyring."""
    from assumer.store import longterm

    if not longterm.delete_keys(profile):
        raise KeyringError(f"no keys stored for profile {profile!r}", hint="'assumer add PROFILE' stores them")
    ui.info(f"removed the keys of profile {profile!r} from the keyring")
    _clear_derived(profile)


def _clear_derived(profile: str) -> None:
    """Forget every cached session made from ``profile``'s previous keys (a hit never re-reads them)."""
    from assumer.store.backends import SESSION_SERVICE, KeyringStore
    from assumer.store.cache import Index, clear_derived

    cleared = clear_derived(Index(), KeyringStore(SESSION_SERVICE), root=profile)
    if cleared:
        ui.info(f"cleared the cached sessions made from the previous keys: {', '.join(cleared)}")


@click.command("rotate")
@profile_argument()
@click.option("--mfa-code", metavar="CODE",
              help="MFA code for a profile with mfa_serial (IAM may require MFA); '-' reads it from stdin. "
                   "Default: ask on the terminal.")
def rotate_command(profile: str, mfa_code: str | None) -> None:
    """Replace PROFILE's keys stored in the keyring with a new access key, and delete the old key in IAM."""
    from assumer.core import rotation
    from assumer.core.profiles import AwsConfig
    from assumer.credentials import Credentials
    from assumer.store import longterm
    from assumer.store.backends import KEYS_SERVICE, KeyringStore

    config = AwsConfig.load()
    keyring = KeyringStore(KEYS_SERVICE)
    stored = keyring.get(profile)
    settings = config.settings(profile) if config.exists(profile) else {}
    if stored is None:
        in_file = settings.get("aws_access_key_id")
        if in_file is not None:
            raise ConfigError(f"the keys of profile {profile!r} are in {in_file.path}, not in the keyring: assumer "
                              "rotates only keys it holds",
                              hint=f"move them with 'assumer add {profile}', delete them from that file, and rotate")
        raise ConfigError(f"no keys stored for profile {profile!r}", hint=f"'assumer add {profile}' stores them")
    try:
        old = Credentials.from_json(stored)
    except ValueError as exc:
        raise KeyringError(f"the keys stored for profile {profile!r} are corrupt ({exc})",
                           hint=f"store them again with 'assumer add {profile}'") from None
    region_value = settings.get("region")
    region = region_value.text if region_value else os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    serial_value = settings.get("mfa_serial")
    signer = _mfa_session(profile, old, serial_value.text, mfa_code, region) if serial_value else old

    def store_and_forget_old_sessions(new: Credentials) -> None:
        longterm.store_keys(profile, new.access_key_id, new.secret_access_key, store=keyring)
        _clear_derived(profile)

    done = rotation.rotate(profile, old, signer=signer, store=store_and_forget_old_sessions, region=region)
    ui.info(f"rotated the keys of profile {profile!r} (IAM user {done.user}): {done.old_key_id} -> "
            f"{done.new_key_id}; the old key is deleted in IAM")


def _mfa_session(profile: str, keys: Credentials, serial: str, code: str | None,
                 region: str | None) -> Credentials:
    """A short GetSessionToken session with MFA, for IAM calls that require it."""
    from assumer.cli.common import read_stdin_line
    from assumer.core import mfa, sts

    if code == "-":
        code = read_stdin_line()
    code = mfa.check_code(code, "--mfa-code") if code else mfa.prompt_on_tty(serial, profile)
    return sts.get_session_token(source=keys, duration=900, region=region, profile=profile, mfa_serial=serial,
                                 mfa_code=code)


@click.command("shell-init")
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
def shell_init_command(shell: str) -> None:
    """Print the shell integration: eval "$(assumer shell-init bash)", or '| source' in fish."""
    from assumer.cli import shellinit

    write_stdout(shellinit.script(shell))

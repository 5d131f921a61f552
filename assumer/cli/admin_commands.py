"""Commands that manage what assumer keeps: list, clear, add, remove, shell-init."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from assumer import ui
from assumer.cli.common import profile_argument, write_stdout
from assumer.errors import KeyringError


@click.command("list")
def list_command() -> None:
    """List profiles, their roles and cached-session expiry (never a secret)."""
    from assumer.core.profiles import AwsConfig
    from assumer.credentials import parse_timestamp, utcnow
    from assumer.store.cache import Index

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
    cleared = clear(Index(), KeyringStore(SESSION_SERVICE), profile=None if everything else profile)
    ui.info(f"cleared cached sessions for: {', '.join(cleared)}" if cleared else "nothing cached to clear")


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


@click.command("shell-init")
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
def shell_init_command(shell: str) -> None:
    """Print the shell integration: eval "$(assumer shell-init bash)", or '| source' in fish."""
    from assumer.cli import shellinit

    write_stdout(shellinit.script(shell))

"""Commands that manage what assumer keeps: list, clear, add, remove, rotate, shell-init."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from assumer import ui
from assumer.cli.common import profile_argument, write_stdout
from assumer.errors import ConfigError, KeyringError

if TYPE_CHECKING:
    from assumer.core.profiles import AwsConfig
    from assumer.credentials import Credentials


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per profile, in a list.")
def list_command(as_json: bool) -> None:
    """List profiles: kind, role, source, region, MFA, where the keys are, cached-session expiry (never a secret)."""
    import json

    from assumer.core.profiles import AwsConfig
    from assumer.credentials import utcnow
    from assumer.store.cache import Index

    config = AwsConfig.load()
    expiry, keyring_keys = _index_facts(Index().load())
    now = utcnow()
    profiles = [_describe(config, name, expiry.get(name), name in keyring_keys) for name in config.profile_names()]
    if as_json:
        for row in profiles:
            expires = row.pop("_expires")
            row["session_expires"] = expires.strftime("%Y-%m-%dT%H:%M:%SZ") if expires else None
            row["session_minutes_left"] = max(int((expires - now).total_seconds() // 60), 0) if expires else None
        write_stdout(json.dumps(profiles, indent=2) + "\n")
        return
    header = ("PROFILE", "KIND", "ROLE", "SOURCE", "REGION", "MFA", "SESSION")
    rows = [header]
    for row in profiles:
        expires = row["_expires"]
        state = "-" if expires is None else "expired" if expires <= now else \
            f"{int((expires - now).total_seconds() // 60)} min left"
        rows.append((row["profile"], row["kind"], row["role_arn"] or "-", row["source"] or "-", row["region"] or "-",
                     "yes" if row["mfa_serial"] else "-", state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    write_stdout("".join("  ".join(f"{cell:<{width}}" for cell, width in zip(row[:-1], widths, strict=True))
                         + f"  {row[-1]}\n" for row in rows))


def _index_facts(entries: dict[str, dict[str, object]]) -> tuple[dict[str, datetime], set[str]]:
    """From the index: each profile's latest session expiry, and the profiles whose keys 'add' stored."""
    from assumer.credentials import parse_timestamp
    from assumer.store.cache import STORED_KEYS, row_profiles

    expiry: dict[str, datetime] = {}
    keyring_keys: set[str] = set()
    for meta in entries.values():
        if meta.get("kind") == STORED_KEYS:
            keyring_keys.update(row_profiles(meta))
            continue
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
    return expiry, keyring_keys


def _describe(config: AwsConfig, name: str, expires: datetime | None, in_keyring: bool) -> dict[str, Any]:
    """What 'list' says of one profile: never a secret, only which kind of credentials and where."""
    settings = config.settings(name)

    def text(key: str) -> str | None:
        value = settings.get(key)
        return value.text if value is not None and value.text else None

    role = text("role_arn")
    source = text("source_profile") or (f"credential_source={text('credential_source')}"
                                        if text("credential_source") else None)
    if role:
        kind = "role"
    elif text("sso_session") or text("sso_start_url"):
        kind = "sso"
    elif text("web_identity_token_file"):
        kind = "web-identity"
    elif text("credential_process"):
        kind = "credential_process"
    elif in_keyring or text("aws_access_key_id"):
        places = [place for place, held in (("keyring", in_keyring), ("file", bool(text("aws_access_key_id"))))
                  if held]
        kind = "keys:" + "+".join(places)
    else:
        kind = "-"
    return {"profile": name, "kind": kind, "role_arn": role, "source": source, "region": text("region"),
            "mfa_serial": text("mfa_serial"), "keys_in_keyring": in_keyring, "_expires": expires}


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
    if profile is not None and not cleared:
        _check_known(profile)  # nothing cached under a name that is no profile either: most likely a typo
    ui.info(f"cleared cached sessions for: {', '.join(cleared)}" if cleared else "nothing cached to clear")


def _check_known(profile: str) -> None:
    """ConfigError (exit 3, with the closest names) for a name the AWS config does not define."""
    from assumer.core.profiles import AwsConfig

    try:
        config = AwsConfig.load()
    except ConfigError:
        return  # a broken file is reported by the commands that need it
    if not config.exists(profile):
        raise config.unknown_profile(profile)


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
    _note_stored_keys(profile)
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


def _forget_sessions_of_old_keys(profile: str) -> None:
    """After rotate stored a new key: clear what the old one made, note the new one; a failure is a warning."""
    from assumer.errors import AssumerError

    try:
        _clear_derived(profile)
        _note_stored_keys(profile)
    except (AssumerError, OSError) as exc:
        ui.warn(f"the new key of profile {profile!r} is stored, but the sessions made from the old one could not "
                f"be cleared ({exc}); run 'assumer clear --all'")


def _note_stored_keys(profile: str) -> None:
    """For 'list': keys are in the keyring for ``profile`` (keyring cannot list its entries)."""
    from assumer.store.cache import Index, record_stored_keys

    record_stored_keys(Index(), profile)


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
    signer = _mfa_session(profile, mfa_code) if serial_value else old

    written: list[Credentials] = []

    def store(new: Credentials) -> None:
        # Only the keyring write: a failure after it must not make rotate delete the stored key.
        longterm.store_keys(profile, new.access_key_id, new.secret_access_key, store=keyring)
        written.append(new)

    try:
        done = rotation.rotate(profile, old, signer=signer, store=store, region=region)
    finally:
        if written:  # the new key is stored (even if deleting the old one failed): forget the old sessions
            _forget_sessions_of_old_keys(profile)
    ui.info(f"rotated the keys of profile {profile!r} (IAM user {done.user}): {done.old_key_id} -> "
            f"{done.new_key_id}; the old key is deleted in IAM")


def _mfa_session(profile: str, code: str | None) -> Credentials:
    """The profile's MFA session (cached, as every role from these keys uses it), for IAM calls that need MFA."""
    from assumer.cli.common import read_stdin_line, session_for
    from assumer.core.mfa import check_code
    from assumer.core.session import SessionOptions

    if code == "-":
        code = read_stdin_line().strip()
    return session_for(profile, SessionOptions(mfa_code=check_code(code, "--mfa-code") if code else None)).credentials


def _function_name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from assumer.cli.shellinit import NAME

    if value is not None and not NAME.match(value):
        raise click.BadParameter("a command name: letters, digits, '_' and '-', not starting with a digit or '-'")
    return value


@click.command("shell-init")
@click.argument("shell", type=click.Choice(("bash", "zsh", "fish")))
@click.option("--name", metavar="NAME", callback=_function_name,
              help="Name of the function (default: assume, left alone when another tool has taken it).")
@click.option("--install", is_flag=True,
              help="Write the fast loader to $XDG_DATA_HOME/assumer/ (no Python at shell start) and print "
                   "the line for the rc file.")
def shell_init_command(shell: str, name: str | None, install: bool) -> None:
    """Print the shell integration: eval "$(assumer shell-init bash)", or '| source' in fish."""
    from assumer.cli import shellinit

    if not install:
        write_stdout(shellinit.script(shell, name=name))
        return
    path = shellinit.install(shell)
    rc_file = {"bash": "~/.bashrc", "zsh": "~/.zshrc", "fish": "~/.config/fish/config.fish"}[shell]
    ui.info(f"wrote {path}; put the line below in {rc_file} (in place of an 'assumer shell-init' line)")
    write_stdout(shellinit.source_line(shell, path, name) + "\n")

"""Pure rendering: a session's variables -> text for bash, zsh, fish, PowerShell, dotenv, JSON.

Every value is quoted for its target so that no value, however hostile, can run
code; dotenv, which has no quoting all its readers agree on, refuses such values.
bash/zsh output also survives the unquoted form users type, ``eval $(assumer env r)``:
the command substitution is then split on white space and globbed before eval joins
the words with single spaces, so each statement ends in ``;`` and no value carries
raw white space or a glob character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from assumer import fastjson
from assumer.credentials import Credentials, format_timestamp
from assumer.errors import ConfigError

SHELLS = ("bash", "zsh", "fish", "powershell", "dotenv", "json")

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
)
# ASSUMER_KEY_ID records which AWS_ACCESS_KEY_ID assumer itself exported, so the
# next assume can tell its own session from keys the user exported by hand.
# ASSUMER_OBTAINED (epoch seconds) lets the prompt hook apply the renewal rule (Credentials.is_fresh).
# ASSUMER_ACCOUNT (the role's account, from its ARN: no AWS call) is for the feedback line of `assume`.
MARKER_VARIABLES = ("ASSUMER_PROFILE", "ASSUMER_ACCOUNT", "ASSUMER_EXPIRATION", "ASSUMER_OBTAINED", "ASSUMER_KEY_ID")
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# Removed on every assume: a profile variable would make SDKs ignore the keys.
PROFILE_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")
ALL_VARIABLES = CREDENTIAL_VARIABLES + REGION_VARIABLES + MARKER_VARIABLES + PROFILE_VARIABLES

# \Z, not $: "$" also matches before a final newline, which would let "x\n" go out unquoted.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_POSIX_SAFE = re.compile(r"^[A-Za-z0-9_.,:/@%+=-]+\Z")
# What every dotenv reader takes literally when unquoted (see dotenv_value); compiled on first
# use by re's own cache, not on every cache hit.
_DOTENV_SAFE = r"[A-Za-z0-9_./:+=@,-]*"


def default_shell(environ: Mapping[str, str]) -> str:
    """``--shell``'s default: the basename of ``$SHELL`` when it is bash, zsh or fish, else bash."""
    name = environ.get("SHELL", "").rsplit("/", 1)[-1]
    return name if name in ("bash", "zsh", "fish") else "bash"


def session_variables(credentials: Credentials, profile: str, region: str | None,
                      role_arn: str | None = None) -> dict[str, str]:
    """The variables that hand a session to a shell or a child process, in a stable order."""
    variables = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
    }
    if credentials.session_token:
        variables["AWS_SESSION_TOKEN"] = credentials.session_token
    if credentials.expiration is not None:
        variables["AWS_CREDENTIAL_EXPIRATION"] = format_timestamp(credentials.expiration)
    if region:
        variables["AWS_REGION"] = region
        variables["AWS_DEFAULT_REGION"] = region
    variables["ASSUMER_PROFILE"] = profile
    account = role_account(role_arn)
    if account:
        variables["ASSUMER_ACCOUNT"] = account
    if credentials.expiration is not None:
        variables["ASSUMER_EXPIRATION"] = str(int(credentials.expiration.timestamp()))
        if credentials.obtained is not None:
            variables["ASSUMER_OBTAINED"] = str(int(credentials.obtained.timestamp()))
    variables["ASSUMER_KEY_ID"] = credentials.access_key_id
    return variables


def role_account(role_arn: str | None) -> str | None:
    """The 12-digit account of ``arn:PARTITION:iam::ACCOUNT:role/NAME``, else None."""
    parts = role_arn.split(":", 5) if role_arn else []
    account = parts[4] if len(parts) == 6 else ""
    return account if len(account) == 12 and account.isascii() and account.isdigit() else None


def variables_to_unset(variables: Mapping[str, str]) -> list[str]:
    """What an assume removes: the profile variables, and stale session fields it does not set."""
    stale = [name for name in CREDENTIAL_VARIABLES + MARKER_VARIABLES if name not in variables]
    return [*PROFILE_VARIABLES, *stale]


def quote_posix(value: str) -> str:
    """Quote for bash and zsh, safe both inside ``eval "$(...)"`` and unquoted ``eval $(...)``.

    Safe values go bare; anything else becomes ``$'...'`` with every byte outside
    the safe set written as ``\\xHH`` (UTF-8 bytes), which both shells decode
    byte for byte and which holds no white space or glob character to split on.
    """
    # zsh expands an unquoted "=cmd" to the command's path at the start of a word and, in an
    # assignment, after a ":" (EQUALS): such values are quoted like any other.
    if _POSIX_SAFE.match(value) and not value.startswith("=") and ":=" not in value:
        return value
    out = []
    for char in value:
        if char.isascii() and (char.isalnum() or char in "_.,:/@%+=-"):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
    return "$'" + "".join(out) + "'"


def quote_fish(value: str) -> str:
    """Quote for fish: single quotes, with control characters as ``\\xHH`` outside them.

    Keeping newlines out of the quoted text keeps each statement on one line, so
    ``eval (assumer env)`` (which splits on newlines) works as well as ``| source``.
    """
    if _POSIX_SAFE.match(value):
        return value
    parts: list[str] = []
    quoted: list[str] = []
    for char in value:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            if quoted:
                parts.append("'" + "".join(quoted) + "'")
                quoted = []
            parts.append(f"\\x{ord(char):02x}")
        else:
            quoted.append("\\" + char if char in "\\'" else char)
    if quoted or not parts:
        parts.append("'" + "".join(quoted) + "'")
    return "".join(parts)


# PowerShell treats the typographic single quotes as quote characters as well.
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def quote_powershell(value: str) -> str:
    """Single-quoted PowerShell string; every quote character (ASCII or typographic) doubled."""
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


def dotenv_value(name: str, value: str) -> str:
    """``value`` as it goes after ``NAME=`` in a dotenv file: bare, or refused.

    No quoting means the same to all of its readers: docker and podman
    ``--env-file`` keep quotes and backslashes literally, python-dotenv strips
    quotes and expands ``${...}``, and ``set -a; . .env`` runs ``$(...)`` and
    backticks. A bare value of ``[A-Za-z0-9_./:+=@,-]`` reads the same in all three
    (AWS keys, tokens, regions and timestamps are made of these), so anything else
    is refused rather than written in a form some reader gets wrong.
    """
    if re.fullmatch(_DOTENV_SAFE, value):
        return value
    # The value itself is not quoted: it may be part of a secret.
    raise ConfigError(
        f"--shell dotenv cannot write {name}: its value holds a character outside [A-Za-z0-9_./:+=@,-], "
        "which docker/podman --env-file, python-dotenv and 'set -a; . .env' read differently",
        hint="use --shell json, or 'assumer exec' to hand the variables to the program",
    )


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        if not _NAME.match(name):  # names are ours, never user input: a bug if this fires
            raise ValueError(f"invalid variable name {name!r}")


def render(variables: Mapping[str, str], unset: Iterable[str], shell: str) -> str:
    """Text that sets ``variables`` and removes ``unset`` in ``shell``."""
    unset = list(unset)
    _check_names([*variables, *unset])
    if shell in ("bash", "zsh"):
        lines = [f"unset {' '.join(unset)};"] if unset else []
        lines += [f"export {name}={quote_posix(value)};" for name, value in variables.items()]
    elif shell == "fish":
        # Guarded: erasing an unset variable fails, and that status would become the
        # status of `assumer env r | source` (breaking `...; and cmd`).
        lines = [f"if set -q -g {name}; set -e -g {name}; end;" for name in unset]
        lines += [f"set -gx {name} {quote_fish(value)};" for name, value in variables.items()]
    elif shell == "powershell":
        lines = [f"Remove-Item Env:{name} -ErrorAction SilentlyContinue" for name in unset]
        lines += [f"$Env:{name} = {quote_powershell(value)}" for name, value in variables.items()]
    elif shell == "dotenv":
        lines = [f"{name}={dotenv_value(name, value)}" for name, value in variables.items()]
    elif shell == "json":
        import json  # indented: json's own encoder (fastjson has none); --shell json only

        return json.dumps(dict(variables), indent=2) + "\n"
    else:
        raise ValueError(f"unknown shell {shell!r}")
    return "\n".join(lines) + "\n" if lines else ""


def render_unset(shell: str) -> str:
    """Text that removes every variable assumer sets (``assumer env --unset``)."""
    return render({}, ALL_VARIABLES, shell)


def credential_process_json(credentials: Credentials) -> str:
    """The Version 1 document an SDK's ``credential_process`` expects."""
    return fastjson.dumps({"Version": 1, **credentials.to_mapping()}) + "\n"

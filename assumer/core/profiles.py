"""AWS config and credentials files -> a resolved chain of roles.

No network, no botocore: a cache hit pays only for reading the files. The reader
splits a file into sections in one pass and parses a section's keys only when a
profile in the chain asks for it, so a config with thousands of profiles costs
little more than one with two (configparser parses every line up front).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from assumer.errors import ConfigError

MIN_DURATION = 900
MAX_DURATION = 43200
DEFAULT_DURATION = 3600
# AWS caps a session assumed with role credentials (role chaining) at one hour.
CHAINED_MAX_DURATION = 3600

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")  # \Z: no final newline
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]")
_SECTION = re.compile(r"^\[\s*([^\]]*?)\s*\]\s*$")
_KEY_VALUE = re.compile(r"^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$")


_SECRET_LIKE = re.compile(r"[A-Za-z0-9/+=]{16,}")


def shown_line(line: str) -> str:
    """A malformed line as an error quotes it, key-shaped runs masked: it may hold a secret key."""
    return _SECRET_LIKE.sub("***", line.strip())


class Value(NamedTuple):
    """A config value and where it came from, so errors can point at the line."""

    text: str
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


class IniFile:
    """A lazily parsed INI file in the dialect botocore reads (configparser, raw)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self._raw: dict[str, list[tuple[int, str]]] = {}
        self._parsed: dict[str, dict[str, Value]] = {}
        self._split(text)

    @classmethod
    def load(cls, path: str) -> IniFile:
        """Read ``path``; a missing file is an empty one, an unreadable one an error."""
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}", hint="check the file's permissions and encoding") from None
        return cls(path, text)

    def _split(self, text: str) -> None:
        current: list[tuple[int, str]] | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith("["):
                match = _SECTION.match(line.rstrip())
                if not match:
                    raise ConfigError(
                        f"{self.path}:{number}: malformed section header {shown_line(line)!r}",
                        hint="a section header looks like [profile NAME]",
                    )
                # A repeated section merges into the first, as configparser(strict=False) does.
                current = self._raw.setdefault(match.group(1), [])
                continue
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            if current is None:
                raise ConfigError(
                    f"{self.path}:{number}: a setting before any [section]",
                    hint="put it under a [profile NAME] header",
                )
            current.append((number, line))

    def sections(self) -> list[str]:
        """Section names in file order."""
        return list(self._raw)

    def has_section(self, name: str) -> bool:
        return name in self._raw

    def section(self, name: str) -> dict[str, Value]:
        """The keys of one section (nested sub-sections are kept as raw text)."""
        parsed = self._parsed.get(name)
        if parsed is None:
            parsed = self._parsed[name] = self._parse(self._raw.get(name, []))
        return parsed

    def _parse(self, lines: list[tuple[int, str]]) -> dict[str, Value]:
        values: dict[str, Value] = {}
        last: str | None = None
        for number, line in lines:
            if line[:1].isspace() and last is not None:
                # Continuation line (a nested block such as "s3 =\n  key = value").
                prior = values[last]
                values[last] = Value(f"{prior.text}\n{line.strip()}".strip(), prior.path, prior.line)
                continue
            match = _KEY_VALUE.match(line.strip())
            if not match:
                raise ConfigError(
                    f"{self.path}:{number}: expected 'key = value', found {shown_line(line)!r}",
                    hint="fix or comment out that line",
                )
            last = match.group(1).strip().lower()
            values[last] = Value(match.group(2).strip(), self.path, number)
        return values


class Source(NamedTuple):
    """The root of a chain: where the first set of credentials comes from.

    ``kind`` is "profile" (keys stored with ``assumer add``, else what botocore
    finds for that profile: static keys, credential_process, SSO) or
    "environment" (``credential_source = Environment``).
    """

    profile: str
    kind: str = "profile"
    has_file_credentials: bool = False
    mfa_serial: str | None = None
    region: str | None = None


class RoleSpec(NamedTuple):
    """One AssumeRole call, with the spec (or root source) its credentials come from."""

    profile: str
    role_arn: str
    source: RoleSpec | Source
    duration_seconds: int = DEFAULT_DURATION
    mfa_serial: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    source_identity: str | None = None
    region: str | None = None
    where: str = ""

    @property
    def chained(self) -> bool:
        """True when the source is itself an assumed role (AWS caps these at one hour)."""
        return isinstance(self.source, RoleSpec)

    def chain(self) -> list[RoleSpec | Source]:
        """Root first: [Source, RoleSpec, RoleSpec, ...]."""
        links: list[RoleSpec | Source] = [self]
        link: RoleSpec | Source = self
        while isinstance(link, RoleSpec):
            link = link.source
            links.append(link)
        return links[::-1]


# A link of a chain: an AssumeRole call, or the root the first credentials come from.
Link = RoleSpec | Source


def config_paths(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The config and credentials file paths, honouring the AWS_* overrides."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or os.path.expanduser("~")
    config = env.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials")
    return os.path.expanduser(config), os.path.expanduser(credentials)


class AwsConfig:
    """The two AWS files, as :meth:`load` read them."""

    def __init__(self, config: IniFile, credentials: IniFile) -> None:
        self.config = config
        self.credentials = credentials
        self._names: list[str] | None = None

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> AwsConfig:
        config_path, credentials_path = config_paths(environ)
        return cls(IniFile.load(config_path), IniFile.load(credentials_path))

    def profile_names(self) -> list[str]:
        """Every profile named in either file, config order first, without duplicates."""
        if self._names is None:
            names: dict[str, None] = {}
            for section in self.config.sections():
                if section == "default":
                    names["default"] = None
                elif section.startswith(("profile ", "profile\t")):
                    names[section[8:].strip()] = None
            for section in self.credentials.sections():
                names[section] = None
            self._names = list(names)
        return self._names

    def settings(self, profile: str) -> dict[str, Value]:
        """The profile's keys from the config file, overlaid by the credentials file."""
        merged: dict[str, Value] = {}
        section = f"profile {profile}"
        if self.config.has_section(section):
            merged.update(self.config.section(section))
        elif profile == "default" and self.config.has_section("default"):
            merged.update(self.config.section("default"))
        if self.credentials.has_section(profile):
            merged.update(self.credentials.section(profile))
        return merged

    def exists(self, profile: str) -> bool:
        return (
            self.config.has_section(f"profile {profile}")
            or (profile == "default" and self.config.has_section("default"))
            or self.credentials.has_section(profile)
        )

    def unknown_profile(self, profile: str) -> ConfigError:
        """The error for a name that is in neither file, with the closest names."""
        import difflib  # only for this error: a cache hit never needs it

        close = difflib.get_close_matches(profile, self.profile_names(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"profiles are read from {self.config.path}"
        return ConfigError(f"unknown profile {profile!r}", hint=hint)

    def resolve(
        self,
        name: str,
        *,
        source_profile: str | None = None,
        duration: int | None = None,
        region: str | None = None,
    ) -> Link:
        """Resolve a profile name (or a role ARN with ``source_profile``) into a chain.

        ``duration`` and ``region`` given on the command line apply to the
        target (the last link) only, as the AWS CLI applies a profile's own
        ``duration_seconds`` and ``region`` to that profile's role.
        """
        if name.startswith("arn:"):
            if not source_profile:
                raise ConfigError(
                    f"{name!r} is a role ARN",
                    hint="name the profile whose credentials assume it with --source-profile",
                )
            _check_role_arn(name, "the command line")
            source = self._resolve(source_profile, [])
            target: Link = RoleSpec(
                profile=name, role_arn=name, source=source,
                region=source.region, where="the command line",
            )
        else:
            if source_profile:
                raise ConfigError(
                    "--source-profile goes with a role ARN",
                    hint=f"set source_profile in the profile {name!r} instead",
                )
            target = self._resolve(name, [])
        return _apply_overrides(target, duration=duration, region=region)

    def _resolve(self, profile: str, seen: list[str]) -> Link:
        if profile in seen:
            loop = " -> ".join([*seen, profile])
            raise ConfigError(f"source_profile loop: {loop}", hint="make one profile in the loop hold credentials")
        if not self.exists(profile):
            if seen:
                raise ConfigError(
                    f"profile {seen[-1]!r} names source_profile {profile!r}, which does not exist",
                    hint=f"define [profile {profile}] in {self.config.path}",
                )
            raise self.unknown_profile(profile)
        settings = self.settings(profile)
        role_arn = _text(settings, "role_arn")
        region = _text(settings, "region")
        if not role_arn:
            return _root_source(profile, settings)
        _check_role_arn(role_arn, settings["role_arn"].where)
        source_name = _text(settings, "source_profile")
        credential_source = _text(settings, "credential_source")
        if source_name and credential_source:
            raise ConfigError(
                f"profile {profile!r} sets both source_profile and credential_source",
                hint="keep one of them",
            )
        if credential_source:
            source: Link = _credential_source(profile, credential_source, settings["credential_source"].where)
        elif source_name:
            if source_name == profile:
                # A profile may be its own source when it also holds the keys (AWS CLI allows it).
                source = _root_source(profile, settings)
            else:
                source = self._resolve(source_name, [*seen, profile])
        else:
            raise ConfigError(
                f"profile {profile!r} has role_arn but no source_profile or credential_source",
                hint=f"add 'source_profile = NAME' to [profile {profile}]",
            )
        duration = DEFAULT_DURATION
        if "duration_seconds" in settings:
            duration = _duration(settings["duration_seconds"])
        session_name = _text(settings, "role_session_name")
        if session_name is not None:
            check_session_name(session_name, settings["role_session_name"].where)
        return RoleSpec(
            profile=profile,
            role_arn=role_arn,
            source=source,
            duration_seconds=duration,
            mfa_serial=_text(settings, "mfa_serial"),
            external_id=_text(settings, "external_id"),
            session_name=session_name,
            source_identity=_text(settings, "source_identity"),
            region=region,
            where=settings["role_arn"].where,
        )


def _text(settings: Mapping[str, Value], key: str) -> str | None:
    value = settings.get(key)
    return value.text if value is not None and value.text else None


def _check_role_arn(arn: str, where: str) -> None:
    if not _ROLE_ARN.match(arn):
        raise ConfigError(
            f"{where}: {arn!r} is not a role ARN",
            hint="expected arn:aws:iam::123456789012:role/NAME",
        )


def check_session_name(name: str, where: str) -> None:
    """AWS accepts 2-64 characters of ``[\\w+=,.@-]`` as a RoleSessionName."""
    if not 2 <= len(name) <= 64 or _SESSION_NAME_BAD.search(name):
        raise ConfigError(
            f"{where}: role_session_name {name!r} is not valid",
            hint="use 2-64 characters from letters, digits and +=,.@_-",
        )


def check_duration(seconds: int, where: str) -> int:
    """Validate a DurationSeconds against STS's absolute bounds."""
    if not MIN_DURATION <= seconds <= MAX_DURATION:
        raise ConfigError(
            f"{where}: duration {seconds} is outside {MIN_DURATION}..{MAX_DURATION} seconds",
            hint="pick a duration between 15 minutes and 12 hours",
        )
    return seconds


def _duration(value: Value) -> int:
    try:
        seconds = int(value.text)
    except ValueError:
        raise ConfigError(f"{value.where}: duration_seconds {value.text!r} is not a number of seconds") from None
    return check_duration(seconds, value.where)


def _credential_source(profile: str, value: str, where: str) -> Source:
    if value.lower() == "environment":
        return Source(profile=profile, kind="environment")
    raise ConfigError(
        f"{where}: credential_source {value!r} is not supported by assumer",
        hint="use credential_source = Environment or a source_profile",
    )


def _root_source(profile: str, settings: Mapping[str, Value]) -> Source:
    has_file_credentials = any(
        key in settings
        for key in (
            "aws_access_key_id", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file",
        )
    )
    return Source(
        profile=profile,
        kind="profile",
        has_file_credentials=has_file_credentials,
        mfa_serial=_text(settings, "mfa_serial"),
        region=_text(settings, "region"),
    )


def _apply_overrides(target: Link, *, duration: int | None, region: str | None) -> Link:
    if duration is not None:
        check_duration(duration, "--duration")
        if isinstance(target, RoleSpec):
            target = target._replace(duration_seconds=duration)
    if region is not None:
        target = target._replace(region=region)
    return target

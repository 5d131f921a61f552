"""AWS config and credentials files -> a resolved chain of roles.

No network, no botocore: a cache hit pays only for reading the files. The reader
(:mod:`assumer.core.inifile`) reads them as botocore does and parses a section's keys
only when a profile in the chain asks for it; :class:`AwsConfig` names the profiles
and builds the chain botocore's AssumeRoleProvider would, root provider included.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

# Re-exported: the rest of assumer and the tests import the reader from here.
from assumer.core.inifile import IniFile as IniFile, Value as Value, shown_line as shown_line
from assumer.errors import ConfigError
from assumer.records import Record

# The profile providers botocore tries for a root profile, in its order (Source.provider).
WEB_IDENTITY = "web_identity"
SSO = "sso"
CREDENTIALS_FILE = "credentials_file"
LOGIN = "login"
PROCESS = "process"
CONFIG_FILE = "config_file"

MIN_DURATION = 900
MAX_DURATION = 43200
DEFAULT_DURATION = 3600
# AWS caps a session assumed with role credentials (role chaining) at one hour.
CHAINED_MAX_DURATION = 3600

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}\Z")  # \Z: no final newline
# Text, compiled at first use (re caches it): a cache hit needs neither of these two.
_SESSION_NAME_BAD = r"[^\w+=,.@-]"
# shlex.split's words for a section name without quotes or backslashes (the common case).
_WORDS = re.compile(r"[^ \t\r\n]+")
# os.path.expandvars's pattern (posixpath._varprog).
_VARIABLE = r"\$(\w+|\{[^}]*\})"  # with re.ASCII


class Source(Record):
    """The root of a chain: where the first set of credentials comes from.

    ``kind`` is "profile" (keys stored with ``assumer add``, else what botocore's
    profile providers find for that profile) or "environment"
    (``credential_source = Environment``). ``provider`` names the profile provider
    that answers (:meth:`AwsConfig.root_provider`), "" for none.
    """

    profile: str
    kind: str = "profile"
    has_file_credentials: bool = False
    mfa_serial: str | None = None
    region: str | None = None
    provider: str = ""


class RoleSpec(Record):
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


def _expand(path: str, env: Mapping[str, str]) -> str:
    """``os.path.expandvars`` then ``expanduser``, as botocore expands both file paths, against ``env``."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        name = name[1:-1] if name.startswith("{") else name
        return env.get(name, match.group(0))

    if "$" in path:
        path = re.sub(_VARIABLE, variable, path, flags=re.ASCII)
    if path.startswith("~"):
        head, sep, tail = path[1:].partition("/")
        if not head and env.get("HOME"):
            path = env["HOME"].rstrip("/") + "/" + tail if sep else env["HOME"]
        else:
            path = os.path.expanduser(path)
    return path


def config_paths(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The config and credentials file paths, as botocore finds them.

    ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE`` when set (``$VAR`` and
    ``~`` expanded; set but empty means no such file, as for botocore), else
    ``~/.aws/config`` and ``~/.aws/credentials``.
    """
    env = os.environ if environ is None else environ
    config = env.get("AWS_CONFIG_FILE", "~/.aws/config")
    credentials = env.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    return (_expand(config, env) if config else ""), (_expand(credentials, env) if credentials else "")


def section_profile(section: str) -> str | None:
    """The profile a config-file section defines, as botocore's build_profile_map reads it.

    ``[default]``, or a section whose name starts with ``profile`` and splits
    (shlex, so quotes group words) into exactly two words: ``[profile x]``,
    ``[profile\\tx]``, ``[profile "my x"]``, even ``[profiles x]``.
    """
    if section == "default":
        return "default"
    if not section.startswith("profile"):
        return None
    if "'" in section or '"' in section or "\\" in section:
        import shlex  # quoted names only: the common case needs no shlex

        try:
            words = shlex.split(section)
        except ValueError:
            return None
    else:
        words = _WORDS.findall(section)
    return words[1] if len(words) == 2 else None


class AwsConfig:
    """The two AWS files, as :meth:`load` read them."""

    def __init__(self, config: IniFile, credentials: IniFile) -> None:
        self.config = config
        self.credentials = credentials
        self._names: list[str] | None = None
        self._profiles: dict[str, str] | None = None

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> AwsConfig:
        config_path, credentials_path = config_paths(environ)
        return cls(IniFile.load(config_path), IniFile.load(credentials_path))

    def _config_profiles(self) -> dict[str, str]:
        """Profile name -> the config-file section botocore takes it from (the last that names it)."""
        if self._profiles is None:
            profiles: dict[str, str] = {}
            for section in self.config.sections():
                name = section_profile(section)
                if name is not None:
                    profiles[name] = section
            self._profiles = profiles
        return self._profiles

    def profile_names(self) -> list[str]:
        """Every profile named in either file, config order first, without duplicates."""
        if self._names is None:
            names = dict.fromkeys(self._config_profiles())
            names.update(dict.fromkeys(self.credentials.sections()))
            self._names = list(names)
        return self._names

    def config_section(self, profile: str) -> dict[str, Value]:
        """The profile's keys in the config file alone (botocore's ConfigProvider reads these)."""
        section = self._config_profiles().get(profile)
        return self.config.section(section) if section is not None else {}

    def credentials_section(self, profile: str) -> dict[str, Value]:
        """The profile's keys in the credentials file alone (botocore's SharedCredentialProvider)."""
        return self.credentials.section(profile) if self.credentials.has_section(profile) else {}

    def settings(self, profile: str) -> dict[str, Value]:
        """The profile's keys from the config file, overlaid key by key by the credentials file.

        botocore's ``session.full_config``: what role settings, credential_process,
        SSO and web identity are read from.
        """
        merged = dict(self.config_section(profile))
        merged.update(self.credentials_section(profile))
        return merged

    def exists(self, profile: str) -> bool:
        return profile in self._config_profiles() or self.credentials.has_section(profile)

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
            source = self._resolve(source_profile, [], as_source=True)
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

    def _resolve(self, profile: str, visited: list[str], *, as_source: bool = False) -> Link:
        """The chain botocore's AssumeRoleProvider builds for ``profile``.

        A profile is a root (its credentials come from the profile providers) when
        it has no ``role_arn``, when it has ``web_identity_token_file`` (the role is
        then assumed with the web identity), or, as a source, when it has static
        keys: botocore stops there even if it also has a ``role_arn``.
        ``visited`` holds the profiles of the chain so far, target first.
        """
        if not self.exists(profile):
            if visited:
                raise ConfigError(
                    f"profile {visited[-1]!r} names source_profile {profile!r}, which does not exist",
                    hint=f"define [profile {profile}] in {self.config.path}",
                )
            raise self.unknown_profile(profile)
        settings = self.settings(profile)
        if (
            "role_arn" not in settings
            or "web_identity_token_file" in settings
            or (as_source and _has_static_keys(settings))
        ):
            return self._root_source(profile, settings)
        visited = visited or [profile]
        role_arn = settings["role_arn"].text
        _check_role_arn(role_arn, settings["role_arn"].where)
        source_name = _text(settings, "source_profile", empty=True)
        credential_source = _text(settings, "credential_source", empty=True)
        if source_name is not None and credential_source is not None:
            raise ConfigError(
                f"profile {profile!r} sets both source_profile and credential_source",
                hint="keep one of them",
            )
        if credential_source is not None:
            source: Link = _credential_source(profile, credential_source, settings["credential_source"].where)
        elif source_name is not None:
            source = self._source(profile, source_name, visited)
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
            region=_text(settings, "region"),
            where=settings["role_arn"].where,
        )

    def _source(self, profile: str, source_name: str, visited: list[str]) -> Link:
        """The link ``profile``'s source_profile resolves to (botocore's _validate_source_profile)."""
        if not self.exists(source_name):
            raise ConfigError(
                f"profile {profile!r} names source_profile {source_name!r}, which does not exist",
                hint=f"define [profile {source_name}] in {self.config.path}",
            )
        if source_name in visited:
            # A profile may name itself when it holds the keys: they sign its own role.
            if source_name != profile or not _has_static_keys(self.settings(source_name)):
                loop = " -> ".join([*visited, source_name])
                raise ConfigError(f"source_profile loop: {loop}",
                                  hint="make one profile in the loop hold credentials")
            return self._root_source(source_name, self.settings(source_name))
        return self._resolve(source_name, [*visited, source_name], as_source=True)

    def _root_source(self, profile: str, settings: Mapping[str, Value]) -> Source:
        """A root profile, with the provider botocore would take its credentials from."""
        provider = self.root_provider(profile, settings)
        return Source(
            profile=profile,
            kind="profile",
            has_file_credentials=bool(provider),
            mfa_serial=_text(settings, "mfa_serial"),
            region=_text(settings, "region"),
            provider=provider,
        )

    def root_provider(self, profile: str, settings: Mapping[str, Value] | None = None) -> str:
        """Which of botocore's profile providers answers for a root ``profile``, in botocore's order.

        web identity, SSO, the credentials file's keys, login, credential_process,
        the config file's keys; "" when none would.
        """
        settings = self.settings(profile) if settings is None else settings
        if "web_identity_token_file" in settings:
            return WEB_IDENTITY
        if "sso_role_name" in settings or "sso_account_id" in settings:
            return SSO
        if "aws_access_key_id" in self.credentials_section(profile):
            return CREDENTIALS_FILE
        if "login_session" in settings:
            return LOGIN
        if "credential_process" in settings:
            return PROCESS
        if "aws_access_key_id" in self.config_section(profile):
            return CONFIG_FILE
        return ""

    def static_keys(self, profile: str, provider: str) -> tuple[str, str | None, str | None]:
        """(key id, secret, token) from the one file that answers, as botocore takes them: a whole triple.

        The token is ``aws_security_token`` if present, else ``aws_session_token``
        (botocore's order); the secret may be missing (botocore then refuses the profile).
        """
        section = self.credentials_section(profile) if provider == CREDENTIALS_FILE else self.config_section(profile)
        secret = section.get("aws_secret_access_key")
        token = section.get("aws_security_token") or section.get("aws_session_token")
        return section["aws_access_key_id"].text, secret.text if secret else None, token.text if token else None


def _has_static_keys(settings: Mapping[str, Value]) -> bool:
    """botocore's _has_static_credentials: either key named, whatever its value."""
    return "aws_access_key_id" in settings or "aws_secret_access_key" in settings


def _text(settings: Mapping[str, Value], key: str, *, empty: bool = False) -> str | None:
    """A key's value; an empty value counts as absent unless ``empty`` (botocore tests presence)."""
    value = settings.get(key)
    if value is None:
        return None
    return value.text if value.text or empty else None


def _check_role_arn(arn: str, where: str) -> None:
    if not _ROLE_ARN.match(arn):
        raise ConfigError(
            f"{where}: {arn!r} is not a role ARN",
            hint="expected arn:aws:iam::123456789012:role/NAME",
        )


def check_session_name(name: str, where: str) -> None:
    """AWS accepts 2-64 characters of ``[\\w+=,.@-]`` as a RoleSessionName."""
    if not 2 <= len(name) <= 64 or re.search(_SESSION_NAME_BAD, name):
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


def _apply_overrides(target: Link, *, duration: int | None, region: str | None) -> Link:
    if duration is not None:
        check_duration(duration, "--duration")
        if isinstance(target, RoleSpec):
            target = target._replace(duration_seconds=duration)
    if region is not None:
        target = target._replace(region=region)
    return target

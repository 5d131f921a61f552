"""Cache keys: everything that decides a session, hashed into one keyring entry name.

Pure functions of a resolved chain, the parsed AWS config and the environment, so
the fast path can compute the key of a cache hit without building anything else
(the config is already parsed by then: reading a few more of its settings is a
dictionary lookup).

What goes in, so that a session is served only while nothing that decided it has
changed:

- the chain: every role, its options (session name, duration, external id, MFA
  serial, source identity, region) and, recursively, its source;
- for a role assumed from a root with MFA, the MFA device: the role's session is
  signed by the root's MFA session (:func:`mfa_session_key`, one per root and device,
  cleared with the root's other sessions), not by the root's keys;
- the endpoint each STS call of the chain went to: the environment's
  ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_STS`` and the settings of the profile the
  call was made with (``endpoint_url``, the ``sts`` endpoint of its ``services``
  section, FIPS/dual-stack/regional-endpoint switches);
- the root's identity: keys from a file or the environment as a fingerprint of the
  key id (never the secret), SSO, ``credential_process`` and web-identity roots by
  their settings (their key ids change on every refresh). Keys stored with
  ``assumer add`` are not read here (that would cost a keyring read on every hit):
  they change only through ``add`` and ``remove``, which clear every session the
  index records as derived from that profile.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from assumer import fastjson
from assumer.core.profiles import DEFAULT_DURATION, AwsConfig, Link, RoleSpec, Source
from assumer.digest import sha256_hex
from assumer.errors import ConfigError

# Bumped when the parts change, so that no entry written under older rules is ever served.
KEY_VERSION = 2

# Environment variables and profile settings that choose where an STS call goes.
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT", "AWS_STS_REGIONAL_ENDPOINTS",
)
_ENDPOINT_SETTINGS = (
    "endpoint_url", "ignore_configured_endpoint_urls", "use_fips_endpoint", "use_dualstack_endpoint",
    "sts_regional_endpoints", "services",
)
# Settings of a root profile that decide whose credentials it yields (secrets never).
_ROOT_SETTINGS = (
    "credential_process", "sso_session", "sso_start_url", "sso_region", "sso_account_id", "sso_role_name",
    "web_identity_token_file", "role_arn", "role_session_name", "credential_source", "source_profile",
)
_SSO_SESSION_SETTINGS = ("sso_start_url", "sso_region", "sso_registration_scopes")

# The MFA session of a root (GetSessionToken with a code): 8 hours unless ASSUMER_MFA_SESSION_DURATION
# says otherwise, within what STS allows an IAM user's session token.
MFA_SESSION_DURATION = 8 * 3600
MFA_SESSION_MIN, MFA_SESSION_MAX = 900, 129600


def cache_key(kind: str, parts: Iterable[object]) -> str:
    """A stable key from everything that changes what is cached (hashed: parts may be long)."""
    digest = sha256_hex(fastjson.dumps(list(parts), sort_keys=True, default=str).encode())
    return f"{kind}:{digest[:40]}"


def fingerprint(key_id: str) -> str:
    """A short, one-way fingerprint of an access key id (the id itself stays out of the key's parts)."""
    return sha256_hex(key_id.encode())[:16] if key_id else ""


def default_session_name() -> str:
    """``assumer-<user>``, cut to STS's rules: identifies who assumed the role in CloudTrail."""
    try:
        user = _user_name()
    except (KeyError, OSError):
        user = "user"
    return re.sub(r"[^\w+=,.@-]", "-", f"assumer-{user}")[:64]


def _user_name() -> str:
    """What ``getpass.getuser()`` answers, without importing getpass (and termios) on every cache hit."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(name)
        if user:
            return user
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def session_key(link: Link, *, environ: Mapping[str, str], config: AwsConfig | None,
                token_duration: int | None = None) -> str:
    """The key of the session a command asks for.

    A role's AssumeRole session, or, for a profile with long-term keys and no
    role, its GetSessionToken session of ``token_duration`` seconds. ``config``
    is the parsed AWS config the chain was resolved from (None: no files).
    """
    if isinstance(link, RoleSpec):
        return role_key(link, environ=environ, config=config)
    if link.mfa_serial and token_duration is None:  # the root's MFA session, the one its roles use too
        return mfa_session_key(link, link.mfa_serial, environ=environ, config=config)
    return cache_key("session", [
        KEY_VERSION, "token", link.profile, link.kind, link.mfa_serial, token_duration or DEFAULT_DURATION,
        link.region, endpoint_part(link.profile, config, environ), root_part(link, config, environ),
    ])


def role_key(spec: RoleSpec, *, environ: Mapping[str, str], config: AwsConfig | None) -> str:
    """The key of one AssumeRole session: the role, its settings, its endpoint and, recursively, its source."""
    return cache_key("session", [
        KEY_VERSION, "role", spec.role_arn, spec.session_name or default_session_name(), spec.duration_seconds,
        spec.external_id, spec.mfa_serial, spec.source_identity, spec.region,
        endpoint_part(_call_profile(spec), config, environ), _source_part(spec, environ, config),
    ])


def mfa_session_key(source: Source, serial: str, *, environ: Mapping[str, str], config: AwsConfig | None) -> str:
    """The key of ``source``'s MFA session for device ``serial`` (its duration, endpoint and identity)."""
    return cache_key("session", [
        KEY_VERSION, "mfa", serial, mfa_session_duration(environ), endpoint_part(source.profile, config, environ),
        root_part(source, config, environ),
    ])


def mfa_session_serial(spec: RoleSpec) -> str | None:
    """The MFA device whose session signs ``spec``'s AssumeRole, or None.

    A role assumed straight from a root, when the role or the root names an
    ``mfa_serial``: the root's MFA session (GetSessionToken with a code) signs it,
    so one code serves every role of that root. A chained role's own
    ``mfa_serial`` goes with its AssumeRole, as botocore sends it.
    """
    if isinstance(spec.source, RoleSpec):
        return None
    return spec.mfa_serial or spec.source.mfa_serial


def mfa_session_duration(environ: Mapping[str, str]) -> int:
    """``ASSUMER_MFA_SESSION_DURATION`` seconds (900..129600), default 8 hours."""
    raw = environ.get("ASSUMER_MFA_SESSION_DURATION", "").strip()
    if not raw:
        return MFA_SESSION_DURATION
    try:
        seconds = int(raw)
    except ValueError:
        seconds = 0
    if not MFA_SESSION_MIN <= seconds <= MFA_SESSION_MAX:
        raise ConfigError(f"ASSUMER_MFA_SESSION_DURATION={raw!r} is not a number of seconds in "
                          f"{MFA_SESSION_MIN}..{MFA_SESSION_MAX}",
                          hint=f"unset it for the default ({MFA_SESSION_DURATION}s, 8 hours)")
    return seconds


def root_of(link: Link) -> Source:
    """The root of a chain: the link whose credentials are long-term."""
    while isinstance(link, RoleSpec):
        link = link.source
    return link


def _call_profile(link: Link) -> str:
    """The profile an STS call for ``link`` is made with (an ARN target uses its source's)."""
    while isinstance(link, RoleSpec) and link.profile.startswith("arn:"):
        link = link.source
    return link.profile


def _source_part(spec: RoleSpec, environ: Mapping[str, str], config: AwsConfig | None) -> object:
    source = spec.source
    if isinstance(source, RoleSpec):
        return role_key(source, environ=environ, config=config)
    serial = mfa_session_serial(spec)
    if serial:  # signed by the root's MFA session (whatever its duration), not by its keys
        return ["mfa", serial, root_part(source, config, environ)]
    return root_part(source, config, environ)


def endpoint_part(profile: str, config: AwsConfig | None, environ: Mapping[str, str]) -> list[object]:
    """Where an STS call made with ``profile`` goes: the environment's and the profile's endpoint settings."""
    found: list[object] = [environ.get(name, "") for name in _ENDPOINT_VARIABLES]
    if config is None:
        return found
    settings = config.settings(profile)
    found += [settings[name].text if name in settings else "" for name in _ENDPOINT_SETTINGS]
    services = settings.get("services")
    if services is not None and services.text:
        # botocore's "[services NAME]" section: a nested "sts =" block with its endpoint_url.
        section = config.config.section(f"services {services.text}") if config.config.has_section(
            f"services {services.text}") else {}
        block = section.get("sts")
        found.append(block.text if block is not None else "")
    return found


def root_part(source: Source, config: AwsConfig | None, environ: Mapping[str, str]) -> list[object]:
    """Who the root of a chain is, as far as the files and the environment say (never a secret)."""
    if source.kind == "environment":
        return ["env", fingerprint(environ.get("AWS_ACCESS_KEY_ID", ""))]
    part: list[object] = ["profile", source.profile]
    if config is None:
        return part
    settings = config.settings(source.profile)
    key_id = settings.get("aws_access_key_id")
    part.append(fingerprint(key_id.text) if key_id is not None else "")
    part += [settings[name].text if name in settings else "" for name in _ROOT_SETTINGS]
    sso_session = settings.get("sso_session")
    if sso_session is not None and sso_session.text and config.config.has_section(f"sso-session {sso_session.text}"):
        section = config.config.section(f"sso-session {sso_session.text}")
        part += [section[name].text if name in section else "" for name in _SSO_SESSION_SETTINGS]
    return part

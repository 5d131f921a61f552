"""The root of a chain: the first, long-term credentials.

For ``credential_source = Environment``, the ``AWS_*`` variables. Otherwise keys
stored with ``assumer add`` (keyring service ``assumer-keys``), else the one
provider botocore would take the profile's credentials from
(:meth:`AwsConfig.root_provider`): static keys are read by assumer's own parser as
a whole triple from the file that answers; web identity, SSO and
credential_process go through botocore's own providers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from assumer import logs
from assumer.core.profiles import CONFIG_FILE, CREDENTIALS_FILE, LOGIN, AwsConfig, Link, RoleSpec, Source
from assumer.credentials import Credentials
from assumer.errors import ConfigError, KeyringError
from assumer.store.backends import Store

# What botocore finds for a profile name (the default imports boto3: only on a miss).
ProfileCredentials = Callable[[str], Credentials]

# The root profiles whose credential_process the assumer processes above this one are
# running (a JSON list), handed to the process botocore starts: an ``assumer
# credential-process`` that would run one of them again is a loop, refused at once.
RESOLVING = "ASSUMER_RESOLVING"
LOOP = "credential_process loop"


def _resolving(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get(RESOLVING)
    if not raw:
        return []
    try:
        chain = json.loads(raw)
    except ValueError:
        return []
    return [str(name) for name in chain] if isinstance(chain, list) else []


def check_process_loop(target: Link, environ: Mapping[str, str]) -> None:
    """Refuse, before any lock is taken, a chain whose root an assumer above us is already resolving.

    ``credential_process = assumer credential-process a`` in profile ``a`` (directly,
    or through other profiles) would otherwise start assumer again and again, each
    waiting for the lock the one before it holds.
    """
    chain = _resolving(environ)
    if not chain:
        return
    root = target
    while isinstance(root, RoleSpec):
        root = root.source
    if root.profile in chain:
        loop = " -> ".join([*chain, root.profile])
        raise ConfigError(
            f"{LOOP}: {loop} (the credential_process of profile {root.profile!r} runs assumer for a profile "
            "whose credentials come from that same credential_process)",
            hint=f"point the credential_process of {root.profile!r} at a tool that does not need it",
        )


@contextmanager
def _resolving_root(profile: str) -> Iterator[None]:
    """``ASSUMER_RESOLVING`` names ``profile`` too while botocore runs its root provider (and its process)."""
    before = os.environ.get(RESOLVING)
    os.environ[RESOLVING] = json.dumps([*_resolving(os.environ), profile])
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(RESOLVING, None)
        else:
            os.environ[RESOLVING] = before


def own_session_in(environ: Mapping[str, str]) -> bool:
    """True when the AWS keys in ``environ`` are the ones assumer itself exported.

    ``ASSUMER_KEY_ID`` is set to the exported key id; keys exported by hand later
    differ from it and are honoured as the user's own.
    """
    key_id = environ.get("AWS_ACCESS_KEY_ID")
    return bool(key_id) and key_id == environ.get("ASSUMER_KEY_ID")


def root_credentials(
    source: Source,
    *,
    keys: Store,
    config: AwsConfig | None,
    environ: Mapping[str, str],
    botocore_credentials: ProfileCredentials | None = None,
) -> Credentials:
    """Long-term credentials at the root of a chain (every secret registered for redaction)."""
    if source.kind == "environment":
        credentials = _environment(source, environ)
        logs.debug(__name__, "root of profile %r: AWS_ACCESS_KEY_ID %s from the environment", source.profile,
                   credentials.access_key_id)
    else:
        found = _stored(source, keys)
        if found is not None:
            logs.debug(__name__, "root %r: keys stored with 'assumer add' (%s)", source.profile, found.access_key_id)
        if found is None:
            if not source.has_file_credentials:
                raise ConfigError(
                    f"profile {source.profile!r} has neither role_arn nor credentials",
                    hint=f"store keys with 'assumer add {source.profile}', or add them to the AWS credentials file",
                )
            found = _static_keys(config, source)
            if found is not None:
                logs.debug(__name__, "root %r: keys from the %s (%s)", source.profile,
                           source.provider.replace("_", " "), found.access_key_id)
        if found is None:
            if botocore_credentials is None:
                from assumer.core import sts  # boto3: only when botocore has to find the keys

                botocore_credentials = sts.profile_credentials
            with _resolving_root(source.profile):
                found = botocore_credentials(source.profile)
            logs.debug(__name__, "root %r: credentials from botocore's %s provider (%s)", source.profile,
                       source.provider.replace("_", " ") or "profile", found.access_key_id)
        credentials = found
    logs.register_secrets(credentials.secrets())
    return credentials


def _stored(source: Source, keys: Store) -> Credentials | None:
    """Keys from ``assumer add``; a failing keyring counts as none when the files hold credentials."""
    try:
        stored = keys.get(source.profile)
    except KeyringError as exc:
        if not source.has_file_credentials:
            raise
        # Not a warning: the keys in the credentials file are the user's own choice, and a
        # broken keyring has already been reported once by the session cache.
        logs.debug(__name__, "%s; using the credentials file for profile %r", exc.message, source.profile)
        return None
    if stored is None:
        return None
    try:
        return Credentials.from_json(stored)
    except ValueError as exc:
        raise KeyringError(
            f"the keys stored for profile {source.profile!r} are corrupt ({exc})",
            hint=f"store them again with 'assumer add {source.profile}'",
        ) from None


def _static_keys(config: AwsConfig | None, source: Source) -> Credentials | None:
    """Static keys from the file that answers (None: botocore's own providers answer).

    botocore takes key id, secret and token together from the credentials file
    when it names ``aws_access_key_id`` there, else (after SSO, login and
    credential_process) from the config file: never a mix of the two.
    """
    if source.provider == LOGIN:
        raise ConfigError(
            f"profile {source.profile!r} uses login_session, which assumer does not support",
            hint="use an SSO profile, static keys or credential_process as the root",
        )
    if config is None or source.provider not in (CREDENTIALS_FILE, CONFIG_FILE):
        return None
    key_id, secret, token = config.static_keys(source.profile, source.provider)
    if not secret:
        where = config.credentials.path if source.provider == CREDENTIALS_FILE else config.config.path
        raise ConfigError(
            f"profile {source.profile!r} has aws_access_key_id but no aws_secret_access_key in {where}",
            hint="add the secret next to the key id (botocore refuses the profile too)",
        )
    return Credentials(key_id, secret, token or None)


def _environment(source: Source, environ: Mapping[str, str]) -> Credentials:
    if own_session_in(environ):
        raise ConfigError(
            f"profile {source.profile!r} takes its credentials from the environment, which holds "
            f"assumer's own session for {environ.get('ASSUMER_PROFILE', '?')!r}",
            hint="run 'eval \"$(assumer env --unset)\"' and export your own keys first",
        )
    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise ConfigError(
            f"profile {source.profile!r} has credential_source = Environment, but AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY are not set",
            hint="export them, or use source_profile",
        )
    return Credentials(key_id, secret, environ.get("AWS_SESSION_TOKEN") or None)

"""The root of a chain: the first, long-term credentials.

For ``credential_source = Environment``, the ``AWS_*`` variables. Otherwise, in
order: keys stored with ``assumer add`` (keyring service ``assumer-keys``); static
keys in the AWS files, read by assumer's own parser; anything else botocore can
find for the profile (``credential_process``, SSO, web identity).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from assumer import logs
from assumer.core.profiles import AwsConfig, Source
from assumer.credentials import Credentials
from assumer.errors import ConfigError, KeyringError
from assumer.store.backends import Store

# What botocore finds for a profile name (the default imports boto3: only on a miss).
ProfileCredentials = Callable[[str], Credentials]


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
    else:
        found = _stored(source, keys)
        if found is None:
            if not source.has_file_credentials:
                raise ConfigError(
                    f"profile {source.profile!r} has neither role_arn nor credentials",
                    hint=f"store keys with 'assumer add {source.profile}', or add them to the AWS credentials file",
                )
            found = _static_keys(config, source.profile)
        if found is None:
            if botocore_credentials is None:
                from assumer.core import sts  # boto3: only when botocore has to find the keys

                botocore_credentials = sts.profile_credentials
            found = botocore_credentials(source.profile)
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


def _static_keys(config: AwsConfig | None, profile: str) -> Credentials | None:
    """Plain keys from the files, read by assumer's own parser.

    botocore reads ``[profile NAME]`` headers with shlex, so a name with a
    quote, a backslash or a space is a profile assumer resolves and botocore
    cannot find; reading static keys here serves those too. Anything else
    (credential_process, SSO, web identity) is botocore's job.
    """
    if config is None:
        return None
    settings = config.settings(profile)
    key_id, secret = settings.get("aws_access_key_id"), settings.get("aws_secret_access_key")
    if key_id is None or secret is None or not key_id.text or not secret.text:
        return None
    token = settings.get("aws_session_token")
    return Credentials(key_id.text, secret.text, token.text if token and token.text else None)


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

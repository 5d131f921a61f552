"""The credential core: profile -> chain -> cache -> (miss) STS -> cache -> Session.

This is the one function the commands call. Side effects (keyring, STS, clock,
terminal) come in as keyword arguments with real defaults, so tests can hand in
fakes for the edge cases while the user flows run against the real ones.
"""

from __future__ import annotations

import getpass
import os
import re
from datetime import datetime
from typing import Any, Callable, Mapping, NamedTuple

from assumer import locking, logs, mfa, ui
from assumer.cache import Index, SessionCache, cache_key, min_ttl
from assumer.credentials import Credentials, utcnow
from assumer.errors import ConfigError, KeyringError
from assumer.profiles import CHAINED_MAX_DURATION, DEFAULT_DURATION, AwsConfig, RoleSpec, Source, Target
from assumer.store import KEYS_SERVICE, SESSION_SERVICE, KeyringStore, NullStore, Store


# A source session handed to AssumeRole only has to outlive that one call.
SOURCE_MARGIN = 60


class SessionOptions(NamedTuple):
    """What the command line can change about a session."""

    duration: int | None = None
    mfa_code: str | None = None
    refresh: bool = False
    no_cache: bool = False
    region: str | None = None
    source_profile: str | None = None


class Session(NamedTuple):
    """Credentials handed out for a profile, and where they came from."""

    profile: str
    credentials: Credentials
    region: str | None
    role_arn: str | None
    cached: bool
    # A profile name that exists in the AWS config, for boto3 settings (CA bundle, endpoints).
    config_profile: str | None


def own_session_in(environ: Mapping[str, str]) -> bool:
    """True when the AWS keys in ``environ`` are the ones assumer itself exported.

    ``ASSUMER_KEY_ID`` is set to the exported key id; keys exported by hand later
    differ from it and are honoured as the user's own.
    """
    key_id = environ.get("AWS_ACCESS_KEY_ID")
    return bool(key_id) and key_id == environ.get("ASSUMER_KEY_ID")


def default_session_name() -> str:
    """``assumer-<user>``, cut to STS's rules: identifies who assumed the role in CloudTrail."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return re.sub(r"[^\w+=,.@-]", "-", f"assumer-{user}")[:64]


def cache_key_for(target: Target, *, environ: Mapping[str, str], options: SessionOptions | None = None) -> str:
    """The cache key of ``target`` as a command's target (what the fast path looks up)."""
    key = Resolver(
        cache=SessionCache(NullStore()), keys=NullStore(), options=options or SessionOptions(),
        environ=environ, now=utcnow, mfa_prompt=mfa.prompt_on_tty,
    ).key_for(target, as_target=True)
    assert key is not None  # a command's target always has a key
    return key


class Resolver:
    """Fetches credentials for each link of a chain, through the cache and a single-flight lock."""

    def __init__(
        self,
        *,
        cache: SessionCache,
        keys: Store,
        options: SessionOptions,
        environ: Mapping[str, str],
        now: Callable[[], datetime],
        mfa_prompt: mfa.CodeSource,
        sts_api: Any = None,
        config: AwsConfig | None = None,
    ) -> None:
        self.sts_api = sts_api
        self.config = config
        self.cache = cache
        self.keys = keys
        self.options = options
        self.environ = environ
        self.now = now
        self.mfa_prompt = mfa_prompt
        self.endpoint = environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL") or ""

    # -- keys and cache keys -------------------------------------------------

    def key_for(self, target: Target, *, as_target: bool) -> str | None:
        """The cache key of a link; None for a root used as a source (its keys are not cached)."""
        if isinstance(target, RoleSpec):
            return cache_key("session", [
                "role", target.role_arn, target.session_name or default_session_name(), target.duration_seconds,
                target.external_id, target.mfa_serial, target.source_identity, target.region, self.endpoint,
                self._source_part(target.source),
            ])
        if as_target:
            return cache_key("session", [
                "token", target.profile, target.kind, target.mfa_serial,
                self.options.duration or DEFAULT_DURATION, target.region, self.endpoint,
            ])
        return None

    def _source_part(self, source: Target) -> object:
        if isinstance(source, RoleSpec):
            return self.key_for(source, as_target=False)
        if source.kind == "environment":
            return ["env", self.environ.get("AWS_ACCESS_KEY_ID", "")]
        return ["profile", source.profile]

    # -- resolution ------------------------------------------------------------

    def credentials(self, target: Target, *, as_target: bool) -> tuple[Credentials, bool]:
        """Credentials for ``target`` and whether they came from the cache."""
        key = self.key_for(target, as_target=as_target)
        if key is None:
            return self.root_credentials(target), False  # type: ignore[arg-type]
        margin = self.cache.min_ttl if as_target else SOURCE_MARGIN
        refresh = self.options.refresh and as_target
        label = target.profile
        if not refresh:
            hit = self._fresh(key, label, margin)
            if hit is not None:
                return hit, True
        with locking.single_flight(key.replace(":", "-")):
            if not refresh:  # another process may have filled it while we waited
                hit = self._fresh(key, label, margin)
                if hit is not None:
                    return hit, True
            fresh = self._fetch(target)
            detail = target.role_arn if isinstance(target, RoleSpec) else "session token"
            self.cache.put(key, fresh, profile=label, kind="session", detail=detail)
            return fresh, False

    def _fresh(self, key: str, label: str, margin: int) -> Credentials | None:
        cached = self.cache.get(key, label=label)
        if cached is not None and cached.is_fresh(self.now(), margin):
            for secret in cached.secrets():
                logs.register_secret(secret)
            return cached
        return None

    def _sts(self) -> Any:
        if self.sts_api is None:
            from assumer import sts  # boto3 is imported only on a cache miss

            self.sts_api = sts
        return self.sts_api

    def _fetch(self, target: Target) -> Credentials:
        sts = self._sts()
        if isinstance(target, RoleSpec):
            source, _ = self.credentials(target.source, as_target=False)
            duration = target.duration_seconds
            if target.chained and duration > CHAINED_MAX_DURATION:
                ui.warn(
                    f"profile {target.profile!r} is assumed with role credentials (role chaining), which AWS caps "
                    f"at one hour; using {CHAINED_MAX_DURATION}s instead of {duration}s"
                )
                duration = CHAINED_MAX_DURATION
            return sts.assume_role(
                role_arn=target.role_arn,
                source=source,
                session_name=target.session_name or default_session_name(),
                duration=duration,
                region=target.region,
                profile=_config_profile(target),
                label=target.profile,
                external_id=target.external_id,
                source_identity=target.source_identity,
                mfa_serial=target.mfa_serial,
                mfa_code=self._mfa_code(target.mfa_serial, target.profile),
            )
        source = self.root_credentials(target)
        return sts.get_session_token(
            source=source,
            duration=self.options.duration or DEFAULT_DURATION,
            region=target.region,
            profile=target.profile,
            mfa_serial=target.mfa_serial,
            mfa_code=self._mfa_code(target.mfa_serial, target.profile),
        )

    def _mfa_code(self, serial: str | None, profile: str) -> str | None:
        if not serial:
            return None
        if self.options.mfa_code:
            return mfa.check_code(self.options.mfa_code)
        return self.mfa_prompt(serial, profile)

    def root_credentials(self, source: Source) -> Credentials:
        """Long-term credentials at the root of a chain."""
        if source.kind == "environment":
            return self._environment_credentials(source)
        try:
            stored = self.keys.get(source.profile)
        except KeyringError as exc:
            if not source.has_file_credentials:
                raise
            # Not a warning: the keys in the credentials file are the user's own choice, and a
            # broken keyring has already been reported once by the session cache.
            logs.debug(__name__, "%s; using the credentials file for profile %r", exc.message, source.profile)
            stored = None
        if stored is not None:
            try:
                credentials = Credentials.from_json(stored)
            except ValueError as exc:
                raise KeyringError(
                    f"the keys stored for profile {source.profile!r} are corrupt ({exc})",
                    hint=f"store them again with 'assumer add {source.profile}'",
                ) from None
            for secret in credentials.secrets():
                logs.register_secret(secret)
            return credentials
        if not source.has_file_credentials:
            raise ConfigError(
                f"profile {source.profile!r} has neither role_arn nor credentials",
                hint=f"store keys with 'assumer add {source.profile}', or add them to the AWS credentials file",
            )
        static = self._static_keys(source.profile)
        if static is not None:
            return static
        return self._sts().profile_credentials(source.profile)

    def _static_keys(self, profile: str) -> Credentials | None:
        """Plain keys from the files, read by assumer's own parser.

        botocore reads ``[profile NAME]`` headers with shlex, so a name with a
        quote, a backslash or a space is a profile assumer resolves and botocore
        cannot find; reading static keys here serves those too. Anything else
        (credential_process, SSO, web identity) is botocore's job.
        """
        if self.config is None:
            return None
        settings = self.config.settings(profile)
        key_id, secret = settings.get("aws_access_key_id"), settings.get("aws_secret_access_key")
        if key_id is None or secret is None or not key_id.text or not secret.text:
            return None
        token = settings.get("aws_session_token")
        credentials = Credentials(key_id.text, secret.text, token.text if token and token.text else None)
        for value in credentials.secrets():
            logs.register_secret(value)
        return credentials

    def _environment_credentials(self, source: Source) -> Credentials:
        env = self.environ
        if own_session_in(env):
            raise ConfigError(
                f"profile {source.profile!r} takes its credentials from the environment, which holds "
                f"assumer's own session for {env.get('ASSUMER_PROFILE', '?')!r}",
                hint="run 'eval \"$(assumer env --unset)\"' and export your own keys first",
            )
        key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            raise ConfigError(
                f"profile {source.profile!r} has credential_source = Environment, but AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY are not set",
                hint="export them, or use source_profile",
            )
        credentials = Credentials(key_id, secret, env.get("AWS_SESSION_TOKEN") or None)
        for value in credentials.secrets():
            logs.register_secret(value)
        return credentials


def _config_profile(target: Target) -> str | None:
    """The nearest link that is a real profile in the config (an ARN target is not)."""
    link: Target = target
    while isinstance(link, RoleSpec) and link.profile.startswith("arn:"):
        link = link.source
    return link.profile


def resolve(name: str, options: SessionOptions, *, config: AwsConfig | None = None,
            environ: Mapping[str, str] | None = None) -> Target:
    """The chain for ``name`` with the command line's overrides, region defaulted from the environment."""
    env = os.environ if environ is None else environ
    config = config or AwsConfig.load(env)
    target = config.resolve(name, source_profile=options.source_profile, duration=options.duration,
                            region=options.region)
    if target.region is None:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            target = target._replace(region=region)
    return target


def session_cache(options: SessionOptions) -> SessionCache:
    """The keyring-backed cache, or one that keeps nothing under ``--no-cache``."""
    if options.no_cache:
        return SessionCache(NullStore(), None, min_ttl())
    return SessionCache(KeyringStore(SESSION_SERVICE), Index(), min_ttl())


def get_session(
    name: str,
    options: SessionOptions = SessionOptions(),
    *,
    config: AwsConfig | None = None,
    cache: SessionCache | None = None,
    keys: Store | None = None,
    environ: Mapping[str, str] | None = None,
    now: Callable[[], datetime] = utcnow,
    mfa_prompt: mfa.CodeSource = mfa.prompt_on_tty,
    sts_api: Any = None,
) -> Session:
    """Credentials for profile ``name`` (or a role ARN with ``options.source_profile``)."""
    env = os.environ if environ is None else environ
    config = config or AwsConfig.load(env)
    target = resolve(name, options, config=config, environ=env)
    if cache is None or options.no_cache:
        cache = session_cache(options)
    resolver = Resolver(
        cache=cache,
        keys=keys or KeyringStore(KEYS_SERVICE),
        options=options,
        environ=env,
        now=now,
        mfa_prompt=mfa_prompt,
        sts_api=sts_api,
        config=config,
    )
    credentials, cached = resolver.credentials(target, as_target=True)
    return Session(
        profile=name,
        credentials=credentials,
        region=target.region,
        role_arn=target.role_arn if isinstance(target, RoleSpec) else None,
        cached=cached,
        config_profile=_config_profile(target),
    )

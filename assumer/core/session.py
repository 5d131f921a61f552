"""The credential core: profile -> chain -> cache -> (miss) STS -> cache -> Session.

:func:`get_session` is the one function the commands call for a session. Side
effects (keyring, STS, clock, terminal) come in as keyword arguments with real
defaults, so tests can hand in fakes for the edge cases while the user flows run
against the real ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from assumer import logs, ui
from assumer.core import mfa
from assumer.core.cachekey import (
    default_session_name,
    mfa_session_duration,
    mfa_session_key,
    mfa_session_serial,
    role_key,
    root_of,
    session_key,
)
from assumer.core.profiles import CHAINED_MAX_DURATION, DEFAULT_DURATION, AwsConfig, Link, RoleSpec, Source

# The hit path's half, kept importable from here for the commands:
from assumer.core.target import SessionOptions as SessionOptions, resolve as resolve
from assumer.credentials import Credentials, min_ttl, utcnow
from assumer.records import Record
from assumer.store import locking
from assumer.store.backends import KEYS_SERVICE, SESSION_SERVICE, KeyringStore, NullStore, Store
from assumer.store.cache import Index, SessionCache

# A source session handed to AssumeRole only has to outlive that one call.
SOURCE_MARGIN = 60

if TYPE_CHECKING:  # a protocol for annotations only: nothing to define on a cache hit
    from contextlib import AbstractContextManager
    from datetime import datetime
    from typing import Protocol

    class StsApi(Protocol):
        """What the resolver calls on a miss: :mod:`assumer.core.sts`, or a test's fake."""

        def profile_credentials(self, profile: str) -> Credentials: ...

        def get_session_token(
            self, *, source: Credentials, duration: int, region: str | None, profile: str, mfa_serial: str | None,
            mfa_code: str | None,
        ) -> Credentials: ...

        def assume_role(
            self, *, role_arn: str, source: Credentials, session_name: str, duration: int, region: str | None,
            profile: str | None, label: str, external_id: str | None = None, source_identity: str | None = None,
            mfa_serial: str | None = None, mfa_code: str | None = None,
        ) -> Credentials: ...


class Session(Record):
    """Credentials handed out for a profile, and where they came from."""

    profile: str
    credentials: Credentials
    region: str | None
    role_arn: str | None
    cached: bool
    # A profile name that exists in the AWS config, for boto3 settings (CA bundle, endpoints).
    config_profile: str | None
    # The session's cache key (everything that decided it): ECR tokens minted with it are keyed by it.
    cache_key: str = ""
    # The profile at the root of the chain (whose keys 'assumer add/remove' change): tokens record it too.
    root: str | None = None


class ChainResolver:
    """Walks a chain from its root: each role session through the cache and a single-flight lock."""

    def __init__(
        self,
        *,
        cache: SessionCache,
        keys: Store,
        options: SessionOptions,
        environ: Mapping[str, str],
        now: Callable[[], datetime],
        mfa_prompt: mfa.CodeSource,
        sts_api: StsApi | None = None,
        config: AwsConfig | None = None,
    ) -> None:
        self.cache = cache
        self.keys = keys
        self.options = options
        self.environ = environ
        self.now = now
        self.mfa_prompt = mfa_prompt
        self.sts_api = sts_api
        self.config = config
        # The key of the session target_credentials served (Session.cache_key).
        self.target_key = ""

    def target_credentials(self, target: Link) -> tuple[Credentials, bool]:
        """The session a command asked for, and whether it came from the cache."""
        key = session_key(target, environ=self.environ, config=self.config, token_duration=self.options.duration)
        self.target_key = key  # Session.cache_key: ECR tokens are keyed by the session that minted them
        found = self._cached_or_fetched(target, key, margin=self.cache.min_ttl, refresh=self.options.refresh)
        _warn_min_ttl(found[0], self.cache.min_ttl, self.environ)
        return found

    def _source_credentials(self, source: Link) -> Credentials:
        """Credentials to sign the next AssumeRole with: a cached role session, or the root's keys."""
        if isinstance(source, RoleSpec):
            key = role_key(source, environ=self.environ, config=self.config)
            return self._cached_or_fetched(source, key, margin=SOURCE_MARGIN, refresh=False)[0]
        return self._root(source)

    def _cached_or_fetched(self, link: Link, key: str, *, margin: int, refresh: bool) -> tuple[Credentials, bool]:
        if refresh:
            logs.debug(__name__, "--refresh: not reading the cache for profile %r", link.profile)
        else:
            hit = self._fresh(key, link.profile, margin)
            if hit is not None:
                return hit, True
        with self._lock(key):
            if not refresh:  # another process may have filled it while we waited
                hit = self._fresh(key, link.profile, margin, recheck=True)
                if hit is not None:
                    return hit, True
            fresh = self._fetch(link)
            detail = link.role_arn if isinstance(link, RoleSpec) else (
                f"MFA session ({link.mfa_serial})" if link.mfa_serial and not self.options.duration
                else "session token")
            # root: 'assumer add/remove' of that profile's keys clears every session derived from them.
            self.cache.put(key, fresh, profile=link.profile, kind="session", detail=detail,
                           root=root_of(link).profile)
            logs.debug(__name__, "cached the session of profile %r under %s (%s)", link.profile, key,
                       _time_left(fresh, self.now()))
            return fresh, False

    def _lock(self, key: str) -> AbstractContextManager[bool]:
        return locking.single_flight(key.replace(":", "-"))

    def _fresh(self, key: str, label: str, margin: int, *, recheck: bool = False,
               what: str = "session") -> Credentials | None:
        """A cached session with ``margin`` seconds left; ``recheck``: the second look, under the lock."""
        cached = self.cache.get(key, label=label)
        if cached is None:
            if not recheck:
                logs.debug(__name__, "cache miss for the %s of %r (%s)", what, label, key)
            return None
        if cached.is_fresh(self.now(), margin):
            logs.register_secrets(cached.secrets())
            logs.debug(__name__, "cache hit for the %s of %r (%s): %s", what, label, key,
                       _time_left(cached, self.now()))
            return cached
        logs.debug(__name__, "the cached %s of %r (%s) is too close to expiry (%s; %ss needed): renewing", what,
                   label, key, _time_left(cached, self.now()), margin)
        return None

    def _sts(self) -> StsApi:
        if self.sts_api is None:
            from assumer.core import sts  # boto3 is imported only on a cache miss

            self.sts_api = sts
        return self.sts_api

    def _root(self, source: Source) -> Credentials:
        from assumer.core.roots import root_credentials  # a cache hit needs no root

        return root_credentials(source, keys=self.keys, config=self.config, environ=self.environ,
                                botocore_credentials=lambda name: self._sts().profile_credentials(name))

    def _fetch(self, link: Link) -> Credentials:
        if not isinstance(link, RoleSpec):  # a root profile: GetSessionToken with its keys
            root = self._root(link)
            if root.session_token and root.expiration is not None:
                return root  # already a session (SSO, web identity, credential_process): handed out as it is
            duration = self.options.duration or (mfa_session_duration(self.environ) if link.mfa_serial
                                                 else DEFAULT_DURATION)
            return self._session_token(link, root, link.mfa_serial, duration)
        serial = mfa_session_serial(link)
        if serial is not None and isinstance(link.source, Source):
            source, send_serial = self._mfa_source(link.source, serial, link)
        else:
            source, send_serial = self._source_credentials(link.source), link.mfa_serial
        duration = link.duration_seconds
        if link.chained and duration > CHAINED_MAX_DURATION:
            ui.warn(
                f"profile {link.profile!r} is assumed with role credentials (role chaining), which AWS caps "
                f"at one hour; using {CHAINED_MAX_DURATION}s instead of {duration}s"
            )
            duration = CHAINED_MAX_DURATION

        def assume(code: str | None) -> Credentials:
            logs.debug(__name__, "AssumeRole %s for profile %r (%ss, signed by %s%s)", link.role_arn, link.profile,
                       duration, source.access_key_id, ", with an MFA code" if code else "")
            return self._sts().assume_role(
                role_arn=link.role_arn, source=source, session_name=link.session_name or default_session_name(),
                duration=duration, region=link.region, profile=config_profile(link), label=link.profile,
                external_id=link.external_id, source_identity=link.source_identity, mfa_serial=send_serial,
                mfa_code=code,
            )

        return self._with_code(send_serial, link.profile, assume)

    def _mfa_source(self, source: Source, serial: str, role: RoleSpec) -> tuple[Credentials, str | None]:
        """What signs a role assumed from ``source`` with MFA, and the serial its AssumeRole still sends.

        The root's MFA session (cached: one code serves every role of the root until it
        expires), and no serial. A root that is already a session (SSO, web identity,
        credential_process, a token in the file) cannot ask for one: the role's own
        ``mfa_serial`` then goes with the AssumeRole, as botocore sends it.
        """
        key = mfa_session_key(source, serial, environ=self.environ, config=self.config)
        hit = self._fresh(key, source.profile, SOURCE_MARGIN, what="MFA session")
        if hit is not None:
            return hit, None
        with self._lock(key):
            hit = self._fresh(key, source.profile, SOURCE_MARGIN, recheck=True, what="MFA session")
            if hit is not None:
                return hit, None
            root = self._root(source)
            if root.session_token:
                logs.debug(__name__, "the root of profile %r is already a session: no MFA session for it; "
                           "the code goes with the AssumeRole", source.profile)
                return root, role.mfa_serial
            # The prompt and its errors name the profile the user asked for.
            session = self._session_token(source, root, serial, mfa_session_duration(self.environ), label=role.profile)
            self.cache.put(key, session, profile=source.profile, kind="session", detail=f"MFA session ({serial})",
                           root=source.profile)
            logs.debug(__name__, "cached the MFA session of %r under %s (%s)", source.profile, key,
                       _time_left(session, self.now()))
            return session, None

    def _session_token(self, source: Source, root: Credentials, serial: str | None, duration: int, *,
                       label: str | None = None) -> Credentials:
        """GetSessionToken with ``root``'s keys, with a code when ``serial`` names a device (asked for ``label``)."""
        def call(code: str | None) -> Credentials:
            logs.debug(__name__, "GetSessionToken for profile %r (%ss, signed by %s%s)", source.profile, duration,
                       root.access_key_id, f", MFA device {serial}" if serial else "")
            return self._sts().get_session_token(source=root, duration=duration, region=source.region,
                                                 profile=source.profile, mfa_serial=serial, mfa_code=code)

        return self._with_code(serial, label or source.profile, call)

    def _with_code(self, serial: str | None, profile: str, call: Callable[[str | None], Credentials]) -> Credentials:
        """``call`` with an MFA code when ``serial`` names a device; a prompted code AWS refuses is asked again."""
        if not serial:
            return call(None)
        tries = 1 if self.options.mfa_code else mfa.TRIES
        for attempt in range(1, tries + 1):
            code = self._mfa_code(serial, profile)
            try:
                return call(code)
            except mfa.CodeRejected as exc:
                if attempt == tries:
                    raise
                ui.warn(f"{exc.message.rstrip('. ')}; type a new code")
        raise AssertionError("unreachable")  # the loop returns or raises

    def _mfa_code(self, serial: str, profile: str) -> str:
        if self.options.mfa_code:
            return mfa.check_code(self.options.mfa_code)
        return self.mfa_prompt(serial, profile)


def _time_left(credentials: Credentials, now: datetime) -> str:
    """How long a session has left, for --debug ("no expiry" for keys)."""
    if credentials.expiration is None:
        return "no expiry"
    seconds = int((credentials.expiration - now).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s left" if seconds > 0 else "expired"


def _warn_min_ttl(credentials: Credentials, min_ttl: int, environ: Mapping[str, str]) -> None:
    """Once per command: an ASSUMER_MIN_TTL at least the session's lifetime (the renewal rule then uses half)."""
    lifetime = credentials.lifetime()
    if lifetime is not None and environ.get("ASSUMER_MIN_TTL") and min_ttl >= lifetime:
        ui.warn(f"ASSUMER_MIN_TTL={min_ttl} is not shorter than this session's lifetime ({int(lifetime)}s); "
                f"it is renewed once less than half of it ({int(lifetime // 2)}s) is left")


def describe_chain(target: Link) -> str:
    """The chain root first, for --debug: ``u (root: credentials_file) -> r (arn:..., 3600s) -> ...``."""
    root = root_of(target)
    where = "environment" if root.kind == "environment" else root.provider or "no keys in the files"
    parts = [f"{root.profile} (root: {where}{', MFA ' + root.mfa_serial if root.mfa_serial else ''})"]
    if isinstance(target, RoleSpec):
        for link in target.chain():
            if not isinstance(link, RoleSpec):
                continue
            serial = mfa_session_serial(link)
            mfa_note = f", via the MFA session of {serial}" if serial else (
                f", MFA code for {link.mfa_serial}" if link.mfa_serial else "")
            parts.append(f"{link.profile} ({link.role_arn}, {link.duration_seconds}s{mfa_note})")
    return " -> ".join(parts)


def config_profile(link: Link) -> str | None:
    """The nearest link that is a real profile in the config (an ARN target is not)."""
    while isinstance(link, RoleSpec) and link.profile.startswith("arn:"):
        link = link.source
    return link.profile


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
    sts_api: StsApi | None = None,
) -> Session:
    """Credentials for profile ``name`` (or a role ARN with ``options.source_profile``)."""
    env = os.environ if environ is None else environ
    config = config or AwsConfig.load(env)
    target = resolve(name, options, config=config, environ=env)
    if logs.debugging():
        logs.debug(__name__, "read %s and %s; chain for %r: %s", config.config.path or "no config file",
                   config.credentials.path or "no credentials file", name, describe_chain(target))
    from assumer.core.roots import check_process_loop  # here, not at the top: a cache hit needs no root

    check_process_loop(target, env)
    if cache is None or options.no_cache:
        cache = session_cache(options)
    resolver = ChainResolver(
        cache=cache,
        keys=keys or KeyringStore(KEYS_SERVICE),
        options=options,
        environ=env,
        now=now,
        mfa_prompt=mfa_prompt,
        sts_api=sts_api,
        config=config,
    )
    credentials, cached = resolver.target_credentials(target)
    return Session(
        profile=name,
        credentials=credentials,
        region=target.region,
        role_arn=target.role_arn if isinstance(target, RoleSpec) else None,
        cached=cached,
        config_profile=config_profile(target),
        cache_key=resolver.target_key,
        root=root_of(target).profile,
    )

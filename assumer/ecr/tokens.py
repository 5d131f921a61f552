"""ECR authorization tokens: minted with a profile's session, cached in the keyring.

Tokens come from GetAuthorizationToken and are cached per registry and per
session cache key (the role, chain, root identity and options that decided the
session): not per access key, which changes with every session and would make
the cache grow without bound, and not per profile name, which may be pointed at
another role.
"""

from __future__ import annotations

import binascii
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # _datetime has no stubs; its classes are datetime's
    from datetime import datetime, timedelta, timezone
else:
    try:  # the C classes datetime.py re-exports, without its pure-Python fallback (see assumer.credentials)
        from _datetime import datetime, timedelta, timezone
    except ImportError:
        from datetime import datetime, timedelta, timezone

from assumer import fastjson, logs
from assumer.credentials import format_timestamp, parse_timestamp, utcnow
from assumer.ecr.registry import (
    account_of,
    check_host,
    default_host,
    find_registry,
    is_public_ecr,
    session_partition,
    strip_url,
)
from assumer.errors import AuthError, ConfigError, EngineError
from assumer.records import Record

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecr.type_defs import GetAuthorizationTokenRequestTypeDef

    from assumer.core.profiles import AwsConfig, Link
    from assumer.core.session import Session, SessionOptions
    from assumer.store.cache import SessionCache
    from assumer.store.secretservice import Reader

# A token is handed out from the cache only while more than this is left; ECR
# tokens live 12 hours, and a push of a large image can take a while.
TOKEN_MARGIN = timedelta(minutes=30)


class Token(Record):
    """A registry login: user name, password, expiry and the registry it was minted for."""

    username: str
    password: str
    expires_at: datetime
    endpoint: str

    def __repr__(self) -> str:  # a password must never reach a log through repr()
        return f"Token(username={self.username!r}, password='***', expires_at={self.expires_at!r})"

    def usable(self, now: datetime) -> bool:
        """True while more than :data:`TOKEN_MARGIN` is left (so it can be cached and reused)."""
        return self.expires_at - now > TOKEN_MARGIN

    def to_json(self) -> str:
        return fastjson.dumps({"Username": self.username, "Password": self.password,
                               "ExpiresAt": format_timestamp(self.expires_at), "Endpoint": self.endpoint})

    @classmethod
    def from_json(cls, text: str) -> Token:
        """Inverse of :meth:`to_json`; ValueError on anything malformed."""
        try:
            data: Any = fastjson.loads(text)
            return cls(str(data["Username"]), str(data["Password"]), parse_timestamp(data["ExpiresAt"]),
                       str(data.get("Endpoint", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed cached ECR token ({type(exc).__name__})") from None


def decode_token(data: Mapping[str, object]) -> Token:
    """One ``authorizationData`` item -> Token (``authorizationToken`` is base64 of ``USER:PASSWORD``).

    ``data`` is an ECR answer (whose ``expiresAt`` botocore makes a datetime) or a
    stand-in for one, so every field is checked rather than trusted.
    """
    malformed = "ECR answered with a malformed authorization token"
    raw = data.get("authorizationToken")
    if not isinstance(raw, str):
        raise EngineError(malformed)
    import base64  # only for a token AWS just handed out, never on a cache hit

    try:
        user, _, password = base64.b64decode(raw, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise EngineError(malformed) from None
    if not user or not password:
        raise EngineError("ECR answered with an authorization token without a user name or password")
    logs.register_secret(password)
    logs.register_secret(raw)
    expires = data.get("expiresAt")
    if isinstance(expires, (int, float)):
        expires = datetime.fromtimestamp(expires, timezone.utc)
    elif isinstance(expires, str):
        expires = parse_timestamp(expires)
    elif isinstance(expires, datetime):
        expires = expires.astimezone(timezone.utc)
    else:  # no expiry said: treat it as stale, so it is never cached
        expires = datetime.fromtimestamp(0, timezone.utc)
    return Token(user, password, expires, str(data.get("proxyEndpoint", "")))


class Where(Record):
    """A registry host, the account to ask a token for (None: the caller's) and the API region."""

    host: str
    registry_id: str | None
    region: str | None
    ecr: bool = True  # False: a host that is not ECR, opted in with --allow-non-ecr-registry


ALLOW_OPTION = "--allow-non-ecr-registry"


def locate(registry: str | None, *, profile: str, role_arn: str | None, region: str | None,
           allow_non_ecr: bool = False) -> Where:
    """Where the token comes from and goes to: ``--registry`` or the profile's default ECR registry.

    An ECR host (every partition's, as the AWS ECR credential helper recognises
    them) names its own account and region: the token is asked for that account
    in that region, and only when the host is in the session's partition. ECR
    Public and any other host are refused (ConfigError), the latter unless
    ``allow_non_ecr`` (``--allow-non-ecr-registry``): then it gets the caller's
    own account's token from the profile's region. Without ``--registry``: the
    ECR registry of the role's account in the profile's region, with that
    region's partition's DNS suffix; host "" when there is no role (ECR's answer
    names it).
    """
    if registry:
        host = check_host(registry)
        if is_public_ecr(host):
            raise ConfigError(f"{host} is ECR Public, which assumer does not log in to",
                              hint="pulls need no login; to push, use "
                                   "'aws ecr-public get-login-password --region us-east-1'")
        found = find_registry(host)
        if found is None:
            if not allow_non_ecr:
                raise ConfigError(f"{host} is not an ECR registry, so it gets no ECR token",
                                  hint=f"to send the token to that host anyway, pass {ALLOW_OPTION}")
            return Where(host, None, region, ecr=False)
        own = session_partition(region, role_arn)
        if own is not None and found.partition != own:
            raise ConfigError(f"{found.host} is in partition {found.partition}, profile {profile!r} in {own}",
                              hint="a token is only asked for in the session's own partition")
        return Where(found.host, found.account, found.region)
    if not region:
        raise ConfigError(f"profile {profile!r} has no region, so its ECR registry is unknown",
                          hint="set region in the profile, pass --region, or name the registry with --registry")
    account = account_of(role_arn)
    return Where(default_host(account, region) if account else "", account, region)


def token_cache_key(host: str, session_key: str, region: str | None) -> str:
    """Per registry and per session: the session's cache key names everything that decided it
    (role, chain, root identity, options, endpoint), so a token is served only to the identity
    that fetched it. Plus the region and the ECR endpoint, which change who answers.
    """
    from assumer.core.cachekey import cache_key

    endpoint = os.environ.get("AWS_ENDPOINT_URL_ECR") or os.environ.get("AWS_ENDPOINT_URL") or ""
    return cache_key("ecr", [host, session_key, region or "", endpoint])


def session_key_of(target: Link, options: SessionOptions, *, config: AwsConfig | None,
                   environ: Mapping[str, str] | None = None) -> str:
    """The cache key :func:`assumer.core.session.get_session` gives ``target``'s session (``Session.cache_key``).

    Computed without the session: the credential helper looks its token up before
    it knows whether it needs a session at all (a cached token outlives the
    session it was minted with). tests/integration/test_ecr_helper.py checks that
    the two agree (a second helper run is a cache hit).
    """
    from assumer.core.cachekey import session_key

    return session_key(target, environ=os.environ if environ is None else environ, config=config,
                       token_duration=options.duration)


def cached_token(cache: SessionCache, key: str, *, now: Callable[[], datetime] = utcnow) -> Token | None:
    """A cached token with more than :data:`TOKEN_MARGIN` left, else None (a corrupt entry is dropped)."""
    text = cache.get_text(key)
    if text is None:
        return None
    try:
        return _usable(text, now)
    except ValueError:
        cache.delete(key)
        return None


def lean_cached_token(key: str, reader: Reader, *, now: Callable[[], datetime] = utcnow) -> Token | None:
    """The token :func:`cached_token` hands out, read by the lean Secret Service ``reader`` alone.

    That reader is what the session cache's store reads first, so a token found
    here is the one the cache would give, without building the cache (its store,
    index and their imports). None whenever the read is not such a token: no
    entry, a read keyring must make, a corrupt or stale entry. Then the caller
    asks :func:`cached_token`, which reads again and handles each case as always.
    """
    from assumer.store import secretservice
    from assumer.store.backends import SESSION_SERVICE

    try:
        text = reader.get_password(SESSION_SERVICE, key)
    except secretservice.Fallback:
        return None
    if text is None:
        return None
    try:
        return _usable(text, now)
    except ValueError:
        return None


def _usable(text: str, now: Callable[[], datetime]) -> Token | None:
    """The token cached as ``text`` while more than :data:`TOKEN_MARGIN` is left (None: stale).

    ValueError when ``text`` is malformed.
    """
    token = Token.from_json(text)
    if not token.usable(now()):
        return None
    logs.register_secret(token.password)
    return token


def ecr_client(session: Session, region: str | None) -> ECRClient:
    """A boto3 ECR client with ``session``'s credentials and assumer's time bounds."""
    from assumer.core import sts

    return sts.client("ecr", session.credentials, region=region or session.region, profile=session.config_profile)


def fetch_token(session: Session, where: Where) -> Token:
    """GetAuthorizationToken with ``session``'s credentials (errors translated, 403s included)."""
    from assumer.core import sts

    params: GetAuthorizationTokenRequestTypeDef = {"registryIds": [where.registry_id]} if where.registry_id else {}
    try:
        response = ecr_client(session, where.region).get_authorization_token(**params)
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        error = sts.translate(exc, action=f"getting an ECR login token for profile {session.profile!r}",
                              profile=session.profile)
        if isinstance(error, AuthError) and "denied" in error.message:
            error.hint = "the role needs ecr:GetAuthorizationToken on '*' ('assumer policy' prints it)"
        raise error from None
    items = response.get("authorizationData") or []
    if not items:
        raise EngineError("ECR returned no authorization data")
    return decode_token(items[0])


class TokenResult(Record):
    """A token for a host, and whether it came from the cache or was cached now."""

    host: str
    token: Token
    cached: bool
    stored: bool


def token_for(
    session: Session,
    registry: str | None,
    *,
    cache: SessionCache,
    refresh: bool = False,
    allow_non_ecr: bool = False,
    now: Callable[[], datetime] = utcnow,
    fetch: Callable[[Session, Where], Token] = fetch_token,
) -> TokenResult:
    """The token for ``registry`` (None: the default ECR one) through ``session``.

    From the cache while more than 30 minutes are left, else minted and cached;
    a token stale on arrival (moto's expire in 2015) is handed out but not cached.
    The cache key includes the session's own key, so another role or identity
    never gets this one's token.
    """
    where = locate(registry, profile=session.profile, role_arn=session.role_arn, region=session.region,
                   allow_non_ecr=allow_non_ecr)
    minted = None
    if not where.host:  # a profile with keys, no role: ECR's answer names the registry
        minted = fetch(session, where)
        where = Where(strip_url(minted.endpoint), None, where.region)
        if not where.host:
            raise EngineError("ECR did not say which registry the token is for", hint="name it with --registry")
    key = token_cache_key(where.host, session.cache_key, session.region)
    if minted is None and not refresh:
        hit = cached_token(cache, key, now=now)
        if hit is not None:
            return TokenResult(where.host, hit, True, True)
    token = minted or fetch(session, where)
    # stored: the helper will find it in the keyring (else ecr-push hands it over in the environment).
    # root: 'assumer add/remove' of the root's keys clears this token with the sessions made from them.
    stored = token.usable(now()) and cache.put_text(
        key, token.to_json(), profile=session.profile, kind="ecr", detail=where.host,
        expiration=format_timestamp(token.expires_at), root=session.root)
    return TokenResult(where.host, token, False, stored)

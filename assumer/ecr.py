"""ECR registries: host parsing, image references, and authorization tokens.

Parsing is pure. Tokens come from GetAuthorizationToken with a profile's session
and are cached in the keyring per (registry, profile): not per access key, which
changes with every session and would make the cache grow without bound.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, NamedTuple
from urllib.parse import urlsplit

from assumer import logs
from assumer.credentials import format_timestamp, parse_timestamp, utcnow
from assumer.errors import AuthError, ConfigError, EngineError

# A token is handed out from the cache only while more than this is left; ECR
# tokens live 12 hours, and a push of a large image can take a while.
TOKEN_MARGIN = timedelta(minutes=30)

_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\."
    r"(?:dkr\.ecr(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?P<fips2>-fips)?\.(?P<region2>[a-z0-9-]+)\.on\.aws)$"
)
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
# \Z, not $ ("$" also matches before a final newline).
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")


class Registry(NamedTuple):
    """An ECR registry host and what its name says."""

    host: str
    account: str
    region: str
    fips: bool = False
    dual_stack: bool = False


def strip_url(value: str) -> str:
    """``https://HOST[:PORT]/path`` or ``HOST/path`` -> ``HOST[:PORT]`` (what engines and helpers key on)."""
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    return text.split("/", 1)[0].lower()


def parse_registry(value: str) -> Registry:
    """Parse an ECR registry host (with or without ``https://`` and a path).

    Accepts ``<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`` and the
    dual-stack ``<account>.dkr-ecr[-fips].<region>.on.aws``; anything else is a
    ConfigError saying what was expected.
    """
    host = strip_url(value)
    match = _ECR_HOST.match(host)
    if not match:
        raise ConfigError(
            f"{value!r} is not an ECR registry host",
            hint="expected ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .com.cn, or ACCOUNT.dkr-ecr.REGION.on.aws); "
                 "--registry HOST[:PORT] accepts any other registry",
        )
    dual = match.group("region2") is not None
    return Registry(
        host=host,
        account=match.group("account"),
        region=match.group("region2") if dual else match.group("region"),
        fips=bool(match.group("fips2") if dual else match.group("fips")),
        dual_stack=dual,
    )


def check_host(value: str) -> str:
    """Validate a ``--registry HOST[:PORT]`` override (any host) and return it normalised."""
    host = strip_url(value)
    if not host or not _HOST.match(host):
        raise ConfigError(f"--registry {value!r} is not a HOST[:PORT]", hint="for example 127.0.0.1:5000")
    return host


def default_host(account: str, region: str) -> str:
    """The ECR registry of ``account`` in ``region`` (``.com.cn`` in the China regions)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def account_of(role_arn: str | None) -> str | None:
    """The account of ``arn:aws:iam::ACCOUNT:role/NAME`` (None when there is no role)."""
    if not role_arn:
        return None
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and re.fullmatch(r"\d{12}", parts[4]) else None


class Target(NamedTuple):
    """Where an image goes: ``HOST/REPOSITORY:TAG``."""

    host: str
    repository: str
    tag: str

    def reference(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"


def split_image(image: str) -> tuple[str | None, str, str | None]:
    """``[REGISTRY/]PATH[:TAG][@DIGEST]`` -> (registry or None, path, tag or None).

    The first component is a registry when it has a dot or a port or is
    ``localhost`` (Docker's own rule).
    """
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    registry = None
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    if registry in (None, "docker.io", "index.docker.io") and name.startswith("library/"):
        name = name[len("library/"):]
    return registry, name, tag


def push_target(image: str, host: str, *, repository: str | None = None, tag: str | None = None) -> Target:
    """DESIGN.md's mapping: ``localhost/app:latest`` -> repository ``app``, tag ``latest``.

    ``--repository`` and ``--tag`` override; the result is checked against ECR's
    naming rules so a bad name fails here, not half-way through a push.
    """
    _, path, image_tag = split_image(image)
    repository = repository or path
    tag = tag or image_tag or "latest"
    if not _REPOSITORY.match(repository) or len(repository) > 256:
        raise ConfigError(f"{repository!r} is not a valid repository name",
                          hint="lower-case letters, digits, '.', '_', '-' and '/' (use --repository)")
    if not _TAG.match(tag):
        raise ConfigError(f"{tag!r} is not a valid tag", hint="letters, digits, '_', '.', '-', up to 128 (use --tag)")
    return Target(host, repository, tag)


# -- tokens -----------------------------------------------------------------------


class Token(NamedTuple):
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
        return json.dumps({"Username": self.username, "Password": self.password,
                           "ExpiresAt": format_timestamp(self.expires_at), "Endpoint": self.endpoint})

    @classmethod
    def from_json(cls, text: str) -> Token:
        """Inverse of :meth:`to_json`; ValueError on anything malformed."""
        try:
            data = json.loads(text)
            return cls(str(data["Username"]), str(data["Password"]), parse_timestamp(data["ExpiresAt"]),
                       str(data.get("Endpoint", "")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed cached ECR token ({type(exc).__name__})") from None


def decode_token(data: dict[str, Any]) -> Token:
    """One ``authorizationData`` item -> Token (``authorizationToken`` is base64 of ``USER:PASSWORD``)."""
    try:
        raw = data["authorizationToken"]
        user, _, password = base64.b64decode(raw, validate=True).decode().partition(":")
    except (KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise EngineError("ECR answered with a malformed authorization token") from None
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


class Where(NamedTuple):
    """A registry host, the account to ask a token for (None: the caller's) and the API region."""

    host: str
    registry_id: str | None
    region: str | None


def locate(registry: str | None, *, profile: str, role_arn: str | None, region: str | None) -> Where:
    """Where the token comes from: ``--registry`` (an ECR host or any host) or the default.

    An ECR host names its own account and region (cross-account, cross-region);
    any other host gets the caller's account's token from the profile's region.
    Without ``--registry``: the ECR registry of the role's account in the
    profile's region; host "" when there is no role (ECR's answer names it).
    """
    if registry:
        host = check_host(registry)
        try:
            parsed = parse_registry(host)
        except ConfigError:
            return Where(host, None, region)
        return Where(host, parsed.account, parsed.region)
    if not region:
        raise ConfigError(f"profile {profile!r} has no region, so its ECR registry is unknown",
                          hint="set region in the profile, pass --region, or name the registry with --registry")
    account = account_of(role_arn)
    return Where(default_host(account, region) if account else "", account, region)


def token_cache_key(host: str, profile: str, region: str | None) -> str:
    """Per registry and profile (plus region and endpoint, which change who answers)."""
    from assumer.cache import cache_key

    endpoint = os.environ.get("AWS_ENDPOINT_URL_ECR") or os.environ.get("AWS_ENDPOINT_URL") or ""
    return cache_key("ecr", [host, profile, region or "", endpoint])


def cached_token(cache: Any, key: str, *, now: Callable[[], datetime] = utcnow) -> Token | None:
    """A cached token with more than :data:`TOKEN_MARGIN` left, else None (a corrupt entry is dropped)."""
    text = cache.get_text(key)
    if text is None:
        return None
    try:
        token = Token.from_json(text)
    except ValueError:
        cache.delete(key)
        return None
    if not token.usable(now()):
        return None
    logs.register_secret(token.password)
    return token


def _client(session: Any, region: str | None) -> Any:
    from assumer import sts

    return sts.client("ecr", session.credentials, region=region or session.region, profile=session.config_profile)


def fetch_token(session: Any, where: Where) -> Token:
    """GetAuthorizationToken with ``session``'s credentials (errors translated, 403s included)."""
    from assumer import sts

    params: dict[str, Any] = {"registryIds": [where.registry_id]} if where.registry_id else {}
    try:
        response = _client(session, where.region).get_authorization_token(**params)
    except Exception as exc:  # botocore's errors, translated; anything else re-raised by translate
        error = sts.translate(exc, action=f"getting an ECR login token for profile {session.profile!r}",
                              profile=session.profile)
        if isinstance(error, AuthError) and "denied" in error.message:
            error.hint = "the role needs ecr:GetAuthorizationToken on '*' ('assumer policy' prints it)"
        raise error from None
    items = response.get("authorizationData") or []
    if not items:
        raise EngineError("ECR returned no authorization data")
    return decode_token(items[0])


class TokenResult(NamedTuple):
    """A token for a host, and whether it came from the cache or was cached now."""

    host: str
    token: Token
    cached: bool
    stored: bool


def token_for(
    session: Any,
    registry: str | None,
    *,
    cache: Any,
    refresh: bool = False,
    now: Callable[[], datetime] = utcnow,
    fetch: Callable[[Any, Where], Token] = fetch_token,
) -> TokenResult:
    """The token for ``registry`` (None: the default ECR one) through ``session``.

    From the cache while more than 30 minutes are left, else minted and cached;
    a token stale on arrival (moto's expire in 2015) is handed out but not cached.
    """
    where = locate(registry, profile=session.profile, role_arn=session.role_arn, region=session.region)
    minted = None
    if not where.host:  # a profile with keys, no role: ECR's answer names the registry
        minted = fetch(session, where)
        where = Where(strip_url(minted.endpoint), None, where.region)
        if not where.host:
            raise EngineError("ECR did not say which registry the token is for", hint="name it with --registry")
    key = token_cache_key(where.host, session.profile, session.region)
    if minted is None and not refresh:
        hit = cached_token(cache, key, now=now)
        if hit is not None:
            return TokenResult(where.host, hit, True, True)
    token = minted or fetch(session, where)
    # stored: the helper will find it in the keyring (else ecr-push hands it over in the environment).
    stored = token.usable(now()) and cache.put_text(
        key, token.to_json(), profile=session.profile, kind="ecr", detail=where.host,
        expiration=format_timestamp(token.expires_at))
    return TokenResult(where.host, token, False, stored)


def _repository_client(session: Any, host: str) -> tuple[Any, dict[str, Any]]:
    where = locate(host, profile=session.profile, role_arn=session.role_arn, region=session.region)
    return _client(session, where.region), ({"registryId": where.registry_id} if where.registry_id else {})


def repository_exists(session: Any, name: str, *, host: str) -> bool | None:
    """Whether repository ``name`` exists in ``host``'s registry; None when the role may not tell."""
    import botocore.exceptions

    from assumer import sts

    client, scope = _repository_client(session, host)
    try:
        client.describe_repositories(repositoryNames=[name], **scope)
        return True
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "RepositoryNotFoundException":
            return False
        error = sts.translate(exc, action=f"checking repository {name!r}", profile=session.profile)
        if isinstance(error, AuthError):
            return None
        raise error from None
    except Exception as exc:
        raise sts.translate(exc, action=f"checking repository {name!r}", profile=session.profile) from None


def missing_repository(name: str, host: str, engine_said: str) -> EngineError:
    """The error for a push refused because the repository does not exist."""
    return EngineError(f"repository {name!r} does not exist in {host} ({engine_said})",
                       hint="create it, or pass --create-repository")


def ensure_repository(session: Any, name: str, *, host: str) -> bool:
    """``--create-repository``: create ``name`` unless it exists; True when it was created."""
    import botocore.exceptions

    from assumer import sts

    if repository_exists(session, name, host=host):
        return False
    client, scope = _repository_client(session, host)
    try:
        client.create_repository(repositoryName=name, **scope)
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "RepositoryAlreadyExistsException":
            return False  # created meanwhile, or DescribeRepositories was not allowed: fine
        error = sts.translate(exc, action=f"creating repository {name!r}", profile=session.profile)
        if isinstance(error, AuthError) and "denied" in error.message:
            error.hint = "the role needs ecr:CreateRepository ('assumer policy --allow-create-repository')"
        raise error from None
    except Exception as exc:
        raise sts.translate(exc, action=f"creating repository {name!r}", profile=session.profile) from None
    return True

"""Console sign-in: a session -> a sign-in token from AWS's federation endpoint -> a login URL.

As AWS documents it for a custom identity broker: ``getSigninToken`` with the
session as JSON (``sessionId``, ``sessionKey``, ``sessionToken``), then a
``login`` URL with ``Issuer``, ``Destination`` and the ``SigninToken``. The
session's secret travels only in the ``getSigninToken`` request (HTTPS); the
login URL is a bearer token for 15 minutes.

A GetSessionToken session cannot sign in, and neither can long-term keys: a
profile without a role gets a GetFederationToken session first.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from assumer import logs
from assumer.credentials import Credentials
from assumer.errors import AuthError, ConfigError, NetworkError

if TYPE_CHECKING:
    from http.client import HTTPResponse

# A console session lasts 900..43200 s (SessionDuration); a GetFederationToken session
# 900..129600 s (its DurationSeconds, which then sets the console session too).
MIN_CONSOLE_DURATION = 900
MAX_CONSOLE_DURATION = 43200
MAX_FEDERATION_DURATION = 129600
DEFAULT_FEDERATION_DURATION = 43200
ISSUER = "assumer"
# A federation session without a policy has no permissions at all: this one lets the
# console session do what the user's own policies allow (the intersection of the two).
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, separators=(",", ":"))

# The partitions with a public sign-in endpoint, and their console.
FEDERATION_ENDPOINTS = {
    "aws": "https://signin.aws.amazon.com/federation",
    "aws-cn": "https://signin.amazonaws.cn/federation",
    "aws-us-gov": "https://signin.amazonaws-us-gov.com/federation",
}
CONSOLES = {
    "aws": "https://console.aws.amazon.com",
    "aws-cn": "https://console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
# Region prefixes of the partitions other than "aws" (most specific first).
_REGION_PARTITIONS = (("us-gov-", "aws-us-gov"), ("cn-", "aws-cn"), ("us-isob-", "aws-iso-b"),
                      ("us-isof-", "aws-iso-f"), ("eu-isoe-", "aws-iso-e"), ("us-iso-", "aws-iso"),
                      ("eusc-", "aws-eusc"))
_FEDERATED_NAME_BAD = re.compile(r"[^\w+=,.@-]")

UrlOpener = Callable[..., "HTTPResponse"]


def partition_of(*, role_arn: str | None, region: str | None) -> str:
    """The partition of a role's ARN, else the one a region name belongs to ("aws" by default)."""
    if role_arn and role_arn.startswith("arn:"):
        return role_arn.split(":")[1]
    for prefix, partition in _REGION_PARTITIONS:
        if region and region.startswith(prefix):
            return partition
    return "aws"


def federation_endpoint(partition: str, environ: Mapping[str, str]) -> str:
    """``ASSUMER_FEDERATION_URL``, else the partition's public federation endpoint."""
    override = environ.get("ASSUMER_FEDERATION_URL", "").strip()
    if override:
        parts = urllib.parse.urlsplit(override)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ConfigError(f"ASSUMER_FEDERATION_URL={override!r} is not a URL",
                              hint=f"give the federation endpoint's full URL, like {FEDERATION_ENDPOINTS['aws']}")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            # The session's secret travels in this request: in the clear only to this machine.
            raise ConfigError(f"ASSUMER_FEDERATION_URL={override!r} is plain http to another host",
                              hint="use https (http is accepted for 127.0.0.1 and localhost only)")
        return override
    try:
        return FEDERATION_ENDPOINTS[partition]
    except KeyError:
        raise ConfigError(f"the {partition} partition has no public console sign-in endpoint known to assumer",
                          hint="set ASSUMER_FEDERATION_URL to your partition's federation endpoint") from None


def destination_url(partition: str, region: str | None, destination: str | None) -> str:
    """Where the console opens: a full URL as given, else a service path (``s3``, ``ec2/home``) or home."""
    if destination and re.match(r"^https?://", destination):
        return destination
    console = CONSOLES.get(partition, CONSOLES["aws"])
    path = (destination or "console/home").strip("/")
    if "/" not in path.split("?", 1)[0].split("#", 1)[0]:
        service, _, rest = path.partition("#")
        path = f"{service}/home" + (f"#{rest}" if rest else "")
    url = f"{console}/{path}"
    if region and "region=" not in url:
        before, hash_sign, fragment = url.partition("#")
        before += ("&" if "?" in before else "?") + f"region={urllib.parse.quote(region)}"
        url = before + hash_sign + fragment
    return url


def federated_user_name(session_name: str) -> str:
    """A GetFederationToken ``Name``: 2-32 characters of ``[\\w+=,.@-]``."""
    name = _FEDERATED_NAME_BAD.sub("-", session_name)[:32]
    return name if len(name) >= 2 else "assumer"


def check_console_duration(seconds: int) -> int:
    """A console session (SessionDuration) lasts 900..43200 seconds."""
    if not MIN_CONSOLE_DURATION <= seconds <= MAX_CONSOLE_DURATION:
        raise ConfigError(f"a console session lasts {MIN_CONSOLE_DURATION}..{MAX_CONSOLE_DURATION} seconds, "
                          f"not {seconds}", hint="pass --duration between 15m and 12h")
    return seconds


def signin_token(
    credentials: Credentials,
    *,
    endpoint: str,
    session_duration: int | None,
    timeout: float,
    opener: UrlOpener | None = None,
) -> str:
    """``getSigninToken`` for a temporary session; the token (a secret) is registered for redaction."""
    if not credentials.session_token:
        raise ConfigError("long-term keys cannot sign in to the console", hint="a bug: they are federated first")
    session = json.dumps({"sessionId": credentials.access_key_id, "sessionKey": credentials.secret_access_key,
                          "sessionToken": credentials.session_token})
    params = {"Action": "getSigninToken", "Session": session}
    if session_duration is not None:
        params["SessionDuration"] = str(check_console_duration(session_duration))
    url = endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode(params)
    logs.register_secret(url)
    body = _get(url, endpoint=endpoint, timeout=timeout, opener=opener)
    try:
        token = json.loads(body)["SigninToken"]
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"the federation endpoint {endpoint} answered without a sign-in token",
                        hint="check ASSUMER_FEDERATION_URL") from None
    if not isinstance(token, str) or not token:
        raise AuthError(f"the federation endpoint {endpoint} answered with an empty sign-in token")
    logs.register_secret(token)
    return token


def login_url(endpoint: str, token: str, *, destination: str, issuer: str = ISSUER) -> str:
    """The sign-in URL: valid for 15 minutes, and as good as the session to whoever holds it."""
    query = urllib.parse.urlencode({"Action": "login", "Issuer": issuer, "Destination": destination,
                                    "SigninToken": token})
    url = endpoint + ("&" if "?" in endpoint else "?") + query
    logs.register_secret(url)
    return url


def federation_session(root: Credentials, *, name: str, duration: int, region: str | None,
                       profile: str | None, label: str) -> Credentials:
    """GetFederationToken with long-term keys and :data:`ALLOW_ALL` (boto3 imported here, on demand)."""
    from assumer.core import sts

    if not MIN_CONSOLE_DURATION <= duration <= MAX_FEDERATION_DURATION:
        raise ConfigError(f"a federation session lasts {MIN_CONSOLE_DURATION}..{MAX_FEDERATION_DURATION} seconds, "
                          f"not {duration}", hint="pass --duration between 15m and 36h")
    try:
        response = sts.client("sts", root, region=region, profile=profile).get_federation_token(
            Name=name, Policy=ALLOW_ALL, DurationSeconds=duration)
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise sts.translate(exc, action=f"getting a federation session for profile {label!r}", profile=label,
                            caller=root.access_key_id) from None
    credentials = Credentials.from_mapping(dict(response["Credentials"]))
    logs.register_secrets(credentials.secrets())
    return credentials


def _get(url: str, *, endpoint: str, timeout: float, opener: UrlOpener | None) -> bytes:
    import urllib.error
    import urllib.request

    open_url = opener or urllib.request.urlopen
    try:
        with open_url(url, timeout=timeout) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500:
            raise AuthError(f"the federation endpoint {endpoint} refused the session (HTTP {exc.code})",
                            hint="a GetSessionToken session cannot sign in, nor can a console session "
                                 "longer than the role allows") from None
        raise NetworkError(f"the federation endpoint {endpoint} answered HTTP {exc.code}",
                           hint="try again shortly") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(f"cannot reach the federation endpoint {endpoint} ({reason})",
                           hint="check the network, or ASSUMER_FEDERATION_URL") from None

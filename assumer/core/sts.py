"""STS calls (AssumeRole, GetSessionToken, GetCallerIdentity) through boto3.

boto3 and botocore are imported inside the functions: a cache hit never needs
them, and their import is most of a cold start. Every call has explicit time
bounds, so an unreachable endpoint fails in seconds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, overload

from assumer import logs
from assumer.core import mfa
from assumer.core.profiles import shown_line
from assumer.credentials import Credentials, utcnow
from assumer.errors import AssumerError, AuthError, ConfigError, NetworkError

if TYPE_CHECKING:  # stubs only: boto3 and botocore are imported inside the functions
    from botocore.exceptions import ConfigParseError
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_sts import STSClient
    from mypy_boto3_sts.type_defs import (
        AssumeRoleRequestTypeDef,
        AssumeRoleResponseTypeDef,
        GetSessionTokenRequestTypeDef,
        GetSessionTokenResponseTypeDef,
    )

# Time bounds (documented in the README): connect 5 s, read 15 s, 3 attempts in
# botocore's "standard" retry mode (throttling and transient errors retried with
# backoff). An unreachable endpoint therefore fails in about 15 s at worst.
# ASSUMER_CONNECT_TIMEOUT, ASSUMER_READ_TIMEOUT and ASSUMER_MAX_ATTEMPTS override them.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
MAX_ATTEMPTS = 3
# STS is global; with no region anywhere, botocore still needs one to sign.
FALLBACK_REGION = "us-east-1"


def time_bounds(environ: Mapping[str, str] | None = None) -> tuple[float, float, int]:
    """(connect timeout, read timeout, attempts): the defaults or their ASSUMER_* overrides."""
    env = os.environ if environ is None else environ
    return (
        _positive(env, "ASSUMER_CONNECT_TIMEOUT", CONNECT_TIMEOUT, float),
        _positive(env, "ASSUMER_READ_TIMEOUT", READ_TIMEOUT, float),
        int(_positive(env, "ASSUMER_MAX_ATTEMPTS", MAX_ATTEMPTS, int)),
    )


def _positive(env: Mapping[str, str], name: str, default: float, kind: type[float] | type[int]) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if not 0 < value < float("inf"):  # also refuses nan
        raise ConfigError(f"{name}={raw!r} is not a positive {'whole ' if kind is int else ''}number",
                          hint=f"unset it for the default ({default:g})")
    return value


@overload
def client(
    service: Literal["sts"], credentials: Credentials | None, *, region: str | None, profile: str | None = None
) -> STSClient: ...


@overload
def client(
    service: Literal["ecr"], credentials: Credentials | None, *, region: str | None, profile: str | None = None
) -> ECRClient: ...


@overload
def client(
    service: Literal["iam"], credentials: Credentials | None, *, region: str | None, profile: str | None = None
) -> IAMClient: ...


def client(
    service: Literal["sts", "ecr", "iam"], credentials: Credentials | None, *, region: str | None,
    profile: str | None = None,
) -> STSClient | ECRClient | IAMClient:
    """A boto3 client with assumer's time bounds; ``credentials`` None means the profile's own."""
    import boto3
    from botocore.config import Config

    connect_timeout, read_timeout, attempts = time_bounds()
    session = boto3.Session(profile_name=_readable_by_botocore(profile), region_name=region or None)
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # total_max_attempts counts the first try; botocore's max_attempts would add one more.
        retries={"total_max_attempts": attempts, "mode": "standard"},
        region_name=region or session.region_name or FALLBACK_REGION,
    )
    if credentials is None:
        return session.client(service, config=config)
    return session.client(
        service,
        config=config,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )


def _readable_by_botocore(profile: str | None) -> str | None:
    """``profile`` if botocore knows it, else None (its settings are then not applied).

    assumer reads the files as botocore does, so every profile it resolves is one
    botocore finds; a role ARN given on the command line is not a profile.
    """
    if profile is None or profile.startswith("arn:"):
        return None
    return profile


def profile_credentials(profile: str) -> Credentials:
    """What botocore's profile providers find for a root ``profile``: web identity, SSO, credential_process.

    The providers botocore's AssumeRoleProvider consults for a source profile
    (``ProfileProviderBuilder``, environment variables off), not the whole
    chain: a root's own ``role_arn`` is never assumed here. Refreshable
    credentials are frozen inside the ``try``, so an SSO token that is missing
    or expired is reported as such, not as an internal error.
    """
    import botocore.credentials
    import botocore.session
    from botocore.config import Config

    connect_timeout, read_timeout, attempts = time_bounds()
    try:
        session = botocore.session.Session(profile=profile)
        # The time bounds of assumer's own calls, for the SSO portal and web identity's STS call too.
        session.set_default_client_config(Config(connect_timeout=connect_timeout, read_timeout=read_timeout,
                                                 retries={"total_max_attempts": attempts, "mode": "standard"}))
        region = session.get_config_variable("region") or FALLBACK_REGION
        providers = botocore.credentials.ProfileProviderBuilder(session, region_name=region).providers(
            profile_name=profile, disable_env_vars=True)
        found = botocore.credentials.CredentialResolver(providers).load_credentials()
        frozen = found.get_frozen_credentials() if found is not None else None
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise _root_error(exc, profile) from None
    if frozen is None or frozen.access_key is None or frozen.secret_key is None:
        raise ConfigError(
            f"profile {profile!r} has neither role_arn nor credentials",
            hint=f"store keys with 'assumer add {profile}', or add them to the AWS credentials file",
        )
    expiry = getattr(found, "_expiry_time", None)
    credentials = Credentials(frozen.access_key, frozen.secret_key, frozen.token, expiry, obtained=utcnow())
    for secret in credentials.secrets():
        logs.register_secret(secret)
    return credentials


def _root_error(exc: Exception, profile: str) -> AssumerError:
    """A root provider's failure as one line; SSO failures name ``aws sso login``."""
    import botocore.exceptions as bex

    login = f"run 'aws sso login --profile {profile}'"
    loop = str(exc).find("credential_process loop")
    if isinstance(exc, bex.CredentialRetrievalError) and loop >= 0:  # an assumer below us refused a loop
        return ConfigError(str(exc)[loop:].splitlines()[0].strip())
    if isinstance(exc, (bex.SSOError, bex.TokenRetrievalError)):  # missing, expired, refused or not refreshed
        return AuthError(f"profile {profile!r}: the SSO session is missing or has expired", hint=login)
    if (isinstance(exc, bex.ClientError) and exc.operation_name in ("GetRoleCredentials", "CreateToken")
            and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (400, 401, 403)):
        return AuthError(f"profile {profile!r}: the SSO portal refused the token "
                         f"({exc.response.get('Error', {}).get('Code', '?')})", hint=login)
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError,
                        bex.ConnectionClosedError)):
        return NetworkError(f"reading the credentials of profile {profile!r}: cannot reach the endpoint ({exc})",
                            hint="check the network and the SSO or STS endpoint (AWS_ENDPOINT_URL_*)")
    if isinstance(exc, OSError):  # credential_process: the program cannot be started
        return ConfigError(f"the credential_process of profile {profile!r} cannot be run: "
                           f"{exc.strerror or type(exc).__name__}", hint="fix the command in the AWS config")
    if isinstance(exc, ValueError):  # its output is not JSON, or not text: never quoted, it may hold a secret
        return ConfigError(f"the credential_process of profile {profile!r} did not print credential_process "
                           f"JSON ({type(exc).__name__})", hint="run the command by hand to see what it prints")
    return translate(exc, action=f"reading the credentials of profile {profile!r}", profile=profile)


def assume_role(
    *,
    role_arn: str,
    source: Credentials,
    session_name: str,
    duration: int,
    region: str | None,
    profile: str | None,
    label: str,
    external_id: str | None = None,
    source_identity: str | None = None,
    mfa_serial: str | None = None,
    mfa_code: str | None = None,
) -> Credentials:
    """AssumeRole with ``source``; errors become one-line :class:`AssumerError`s naming ``label``."""
    params: AssumeRoleRequestTypeDef = {"RoleArn": role_arn, "RoleSessionName": session_name,
                                        "DurationSeconds": duration}
    if external_id:
        params["ExternalId"] = external_id
    if source_identity:
        params["SourceIdentity"] = source_identity
    if mfa_serial:
        params["SerialNumber"] = mfa_serial
        if mfa_code is not None:  # always a code here: the resolver asks for one whenever there is a serial
            params["TokenCode"] = mfa_code
    try:
        response = client("sts", source, region=region, profile=profile).assume_role(**params)
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise translate(exc, action=f"assuming {role_arn} for profile {label!r}", profile=label,
                        caller=source.access_key_id) from None
    return _credentials(response)


def get_session_token(
    *, source: Credentials, duration: int, region: str | None, profile: str, mfa_serial: str | None,
    mfa_code: str | None,
) -> Credentials:
    """GetSessionToken for a profile with long-term keys (with MFA when it names a device)."""
    params: GetSessionTokenRequestTypeDef = {"DurationSeconds": duration}
    if mfa_serial:
        params["SerialNumber"] = mfa_serial
        if mfa_code is not None:  # always a code here: the resolver asks for one whenever there is a serial
            params["TokenCode"] = mfa_code
    try:
        response = client("sts", source, region=region, profile=profile).get_session_token(**params)
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise translate(exc, action=f"getting a session token for profile {profile!r}", profile=profile,
                        caller=source.access_key_id) from None
    return _credentials(response)


def caller_identity(credentials: Credentials, *, region: str | None, profile: str | None, label: str) -> dict[str, str]:
    """GetCallerIdentity: Account, Arn, UserId."""
    try:
        response = client("sts", credentials, region=region, profile=profile).get_caller_identity()
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise translate(exc, action=f"checking the session of profile {label!r}", profile=label,
                        revoked_hint=True) from None
    return {"Account": response["Account"], "Arn": response["Arn"], "UserId": response["UserId"]}


def _credentials(response: AssumeRoleResponseTypeDef | GetSessionTokenResponseTypeDef) -> Credentials:
    credentials = Credentials.from_mapping(response["Credentials"])._replace(obtained=utcnow())
    for secret in credentials.secrets():
        logs.register_secret(secret)
    return credentials


# What to check when AWS denies an operation, by operation: the hint must be about that call.
_DENIED_HINTS = {
    "AssumeRole": "check the role's trust policy and the caller's sts:AssumeRole permission",
    "GetSessionToken": "check that no policy of the IAM user denies sts:GetSessionToken (AWS allows it by "
                       "default) and that mfa_serial names this user's MFA device",
    "GetFederationToken": "the IAM user needs sts:GetFederationToken (see 'assumer login' in the README)",
    "GetCallerIdentity": "sts:GetCallerIdentity is never denied by IAM: check the endpoint and the credentials",
}


def denied_hint(operation: str) -> str:
    """The hint for a denied ``operation``: its own permission, or the trust policy for AssumeRole."""
    if operation in _DENIED_HINTS:
        return _DENIED_HINTS[operation]
    return f"check that the caller's IAM policies allow {operation}" if operation else "check the caller's policies"


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}
_BAD_KEYS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidAccessKeyId"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


def translate(
    exc: Exception, *, action: str, profile: str, caller: str | None = None, revoked_hint: bool = False
) -> AssumerError:
    """Turn a botocore exception into one clear line with the right exit code.

    Errors are mapped by HTTP status as well as by code: moto (and some proxies)
    answer a denial with a 403 and an HTML body, which botocore reports with
    the status as the code.
    """
    import botocore.exceptions as bex

    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip().splitlines()[0] if error.get("Message") else code
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        refresh = f"; if the cached session was revoked, run with --refresh or 'assumer clear {profile}'"
        if code in _EXPIRED:
            return AuthError(f"{action}: the credentials have expired ({message})",
                             hint="renew the source credentials" + (refresh if revoked_hint else ""))
        if code in _BAD_KEYS:
            return AuthError(f"{action}: the access key is not valid ({code})",
                             hint="check the keys (assumer add PROFILE stores new ones)"
                                  + (refresh if revoked_hint else ""))
        if code in _THROTTLED:
            return NetworkError(f"{action}: throttled by AWS after {time_bounds()[2]} attempts",
                                hint="try again shortly")
        if "MultiFactorAuthentication" in message or "MFA" in message:
            # Before the denial: AWS refuses a wrong or reused code with AccessDenied too.
            return mfa.CodeRejected(f"{action}: MFA failed: {message}",
                                    hint="type the device's next code; check that mfa_serial names your device")
        if code in _DENIED or status == 403:
            who = f" {caller} is not allowed:" if caller else ""
            return AuthError(f"{action}: access denied:{who} {message}",
                             hint=denied_hint(getattr(exc, "operation_name", "")))
        if code == "ValidationError":
            return ConfigError(f"{action}: {message}", hint="check the profile's settings")
        if status and status >= 500:
            return NetworkError(f"{action}: AWS answered {status} {code}", hint="try again shortly")
        return AuthError(f"{action}: {code}: {message}")
    if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError, bex.ReadTimeoutError,
                        bex.ConnectionClosedError)):
        return NetworkError(f"{action}: cannot reach the endpoint ({exc})",
                            hint="check the network, AWS_ENDPOINT_URL and the region")
    if isinstance(exc, bex.NoCredentialsError):
        return ConfigError(f"{action}: no source credentials found",
                           hint="store keys with 'assumer add PROFILE' or configure the source profile")
    if isinstance(exc, bex.ProfileNotFound):
        return ConfigError(f"{action}: {exc}")
    if isinstance(exc, bex.ConfigParseError):
        return _config_parse_error(exc)
    if isinstance(exc, bex.InvalidRegionError):
        return ConfigError(f"{action}: {exc}", hint="set region in the profile, or pass --region like eu-west-1")
    if isinstance(exc, bex.BotoCoreError):
        return AuthError(f"{action}: {exc}")
    if isinstance(exc, ValueError) and str(exc).startswith("Invalid endpoint"):
        return ConfigError(f"{action}: {exc}", hint="AWS_ENDPOINT_URL (or the profile's endpoint_url) must be a URL")
    raise exc


def _config_parse_error(exc: ConfigParseError) -> ConfigError:
    """botocore could not parse a whole AWS file: name the file and, when known, the line."""
    path, error = exc.kwargs.get("path", "the AWS config"), exc.kwargs.get("error")
    line = getattr(error, "lineno", None)
    detail = str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "not INI"
    detail = shown_line(re.sub(r"^While reading from .*?: ", "", detail))  # configparser repeats path and line
    errors = getattr(error, "errors", None)
    if line is None and errors:
        line, text = errors[0]  # configparser.ParsingError: [(lineno, repr(line)), ...]
        found = text[:-3] + "'" if text.endswith("\\n'") else text  # the line's repr(), newline dropped
        detail = f"expected 'key = value', found {shown_line(found)}"
    where = f"{path}:{line}" if line else str(path)
    return ConfigError(f"{where}: botocore cannot parse this file: {detail}", hint="fix or comment out that line")

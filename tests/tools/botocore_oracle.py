"""botocore as the oracle: the chain of STS calls it makes for a profile, and assumer's for the same files.

Both sides are run in-process with no network: botocore through its own
credential resolver with ``create_client`` replaced by a recorder that answers
every STS call with made-up keys, assumer through :meth:`AwsConfig.resolve` and
the root reader of :mod:`assumer.core.roots`, walking the chain with the same
made-up keys. Each side gives a :class:`Outcome`: the calls in order (operation,
role, the key id that signed it, the explicit parameters), and the key id handed
out, or the fact that it refused the profile. For a profile with keys and no role,
the key handed out is the root's: assumer then hands out a GetSessionToken session
made from that key (a documented difference), which is not what is compared here.
A role assumed from long-term keys with MFA is assumed, on assumer's side, with the
root's MFA session (GetSessionToken with the code, :func:`mfa_session_serial`), as
the resolver does: a documented difference.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple

import botocore.credentials
import botocore.session

from assumer.core.cachekey import mfa_session_serial
from assumer.core.profiles import AwsConfig, IniFile, RoleSpec, Source
from assumer.core.roots import root_credentials
from assumer.credentials import Credentials
from assumer.errors import AssumerError
from assumer.store.backends import NullStore

MFA_CODE = "123456"


class Call(NamedTuple):
    operation: str
    role_arn: str
    signed_by: str
    params: tuple[tuple[str, str], ...]


class Outcome(NamedTuple):
    """What one side does for a profile: its calls and the key id it hands out, or ``refused``."""

    calls: tuple[Call, ...] = ()
    key_id: str = ""
    refused: bool = False


# Parameters compared: the ones a config sets explicitly (defaults differ by design: the session name).
COMPARED = ("ExternalId", "SerialNumber", "RoleSessionName", "DurationSeconds")


def _params(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((name, str(params[name])) for name in COMPARED if params.get(name) is not None)


class _Recorder:
    """Stands in for ``session.create_client``: every STS call recorded, answered with made-up keys."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def create_client(self, service_name: str, **kwargs: Any) -> _FakeSts:
        return _FakeSts(self, kwargs.get("aws_access_key_id") or "")


class _FakeSts:
    def __init__(self, recorder: _Recorder, key_id: str) -> None:
        self.recorder = recorder
        self.key_id = key_id

    def _answer(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if str(params.get("RoleSessionName", "")).startswith("botocore-session-"):  # its default, not the config's
            params = {name: value for name, value in params.items() if name != "RoleSessionName"}
        self.recorder.calls.append(Call(operation, str(params.get("RoleArn")), self.key_id, _params(params)))
        return {"Credentials": {
            "AccessKeyId": f"ASIAFAKE{len(self.recorder.calls):04d}",
            "SecretAccessKey": "fake-secret", "SessionToken": "fake-token",
            "Expiration": datetime.now(timezone.utc) + timedelta(hours=1),
        }}

    def assume_role(self, **params: Any) -> dict[str, Any]:
        if params.get("SerialNumber"):
            params = {**params}
            params.pop("TokenCode", None)
        return self._answer("AssumeRole", params)

    def assume_role_with_web_identity(self, **params: Any) -> dict[str, Any]:
        return self._answer("AssumeRoleWithWebIdentity", params)


def botocore_outcome(config: Path | str, credentials: Path | str, profile: str) -> Outcome:
    """What botocore does for ``profile`` with these two files (environment variables as they are)."""
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("credentials_file", str(credentials))
    session.set_config_variable("profile", profile)
    recorder = _Recorder()
    session.create_client = recorder.create_client  # type: ignore[method-assign]
    try:
        resolver = botocore.credentials.create_credential_resolver(session)
        # Only the providers that read the files: no metadata service, no container endpoint.
        resolver.providers = [p for p in resolver.providers
                              if p.METHOD not in ("iam-role", "container-role", "boto-config", "env")]
        for provider in resolver.providers:
            if isinstance(provider, botocore.credentials.AssumeRoleProvider):
                provider._prompter = lambda prompt: MFA_CODE
        found = resolver.load_credentials()
        if found is None:
            return Outcome(tuple(recorder.calls), refused=True)
        frozen = found.get_frozen_credentials()
    except Exception:  # noqa: BLE001 - any refusal by botocore is the outcome "refused"
        return Outcome(tuple(recorder.calls), refused=True)
    return Outcome(tuple(recorder.calls), key_id=frozen.access_key or "")


def assumer_outcome(config: Path | str, credentials: Path | str, profile: str,
                    environ: Mapping[str, str] | None = None) -> Outcome:
    """What assumer does for ``profile``: its chain walked root first, each AssumeRole recorded."""
    env = dict(os.environ if environ is None else environ)
    calls: list[Call] = []
    try:
        aws = AwsConfig(IniFile.load(str(config)), IniFile.load(str(credentials)))
        target = aws.resolve(profile)
        key: Credentials | None = None
        for link in (target.chain() if isinstance(target, RoleSpec) else [target]):
            if isinstance(link, Source):
                key = root_credentials(link, keys=NullStore(), config=aws, environ=env,
                                       botocore_credentials=_no_botocore)
                continue
            assert isinstance(link, RoleSpec) and key is not None
            serial = link.mfa_serial
            if mfa_session_serial(link) and not key.session_token:  # the root's MFA session signs the role
                calls.append(Call("GetSessionToken", "None", key.access_key_id,
                                  (("SerialNumber", str(mfa_session_serial(link))),)))
                key = Credentials(f"ASIAFAKE{len(calls):04d}", "fake-secret", "fake-token")
                serial = None
            params: dict[str, Any] = {"ExternalId": link.external_id, "SerialNumber": serial,
                                      "RoleSessionName": link.session_name}
            settings = aws.settings(link.profile)
            if "duration_seconds" in settings:
                params["DurationSeconds"] = link.duration_seconds
            calls.append(Call("AssumeRole", link.role_arn, key.access_key_id, _params(params)))
            key = Credentials(f"ASIAFAKE{len(calls):04d}", "fake-secret", "fake-token")
    except AssumerError:
        return Outcome(tuple(calls), refused=True)
    assert key is not None
    return Outcome(tuple(calls), key_id=key.access_key_id)


def _no_botocore(profile: str) -> Credentials:
    raise AssertionError(f"the differential tests use static roots only, not botocore's for {profile!r}")

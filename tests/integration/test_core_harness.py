"""The test services themselves: moto really enforces IAM, the proxy records and perturbs.

If moto stops enforcing something in a new release, these fail first, rather than
the denial tests of assumer passing for the wrong reason.
"""

from __future__ import annotations

import subprocess
import sys
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.tools.moto_server import REGION, Keys, MotoServer, World
from tests.tools.paths import ROOT
from tests.tools.recording_proxy import ProxyClient, RecordingProxy


def client(service: str, endpoint: str, keys: Keys, token: str | None = None):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=keys.access_key_id,
                        aws_secret_access_key=keys.secret_access_key, aws_session_token=token)


def assume(endpoint: str, keys: Keys, role: str, token: str | None = None, **extra) -> dict:
    return client("sts", endpoint, keys, token).assume_role(
        RoleArn=role, RoleSessionName="harness", **extra)["Credentials"]


def error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


@pytest.mark.parametrize("who, role", [
    ("nope", "role_r"),  # no permission at all
    ("u", "role_untrusting"),  # U may only assume R
    ("wide", "role_r"),  # may assume anything, but R trusts only U
    ("wide", "role_untrusting"),
    ("u", "role_r2"),  # R2 only through R
])
def test_moto_denies(moto: MotoServer, world: World, who: str, role: str) -> None:
    keys = getattr(world, who)
    assert error_code(lambda: assume(moto.url, keys, getattr(world, role))) == "AccessDenied"


def test_moto_allows_the_designed_paths_and_checks_a_wrong_external_id(
        moto: MotoServer, world: World) -> None:
    r = assume(moto.url, world.u, world.role_r)
    session = Keys(r["AccessKeyId"], r["SecretAccessKey"])
    assume(moto.url, session, world.role_r2, r["SessionToken"])
    # A role session is not U: R does not trust it (this is what nesting tests rely on).
    assert error_code(lambda: assume(moto.url, session, world.role_r, r["SessionToken"])) \
        == "AccessDenied"
    assume(moto.url, world.wide, world.role_rext, ExternalId="xyz")
    assert error_code(lambda: assume(moto.url, world.wide, world.role_rext,
                                     ExternalId="wrong")) == "AccessDenied"


def test_moto_checks_signatures(moto: MotoServer, world: World) -> None:
    forged = Keys(world.u.access_key_id, "x" * 40)
    assert error_code(lambda: assume(moto.url, forged, world.role_r)) == "SignatureDoesNotMatch"


def test_in_process_proxy_records_and_injects(proxy: RecordingProxy, world: World) -> None:
    proxy.throttle("AssumeRole", 1)
    assume(proxy.url, world.u, world.role_r, DurationSeconds=1800)
    records = proxy.requests("AssumeRole")
    assert [r.status for r in records] == [400, 200]
    assert records[-1].params["DurationSeconds"] == "1800"
    assert records[-1].access_key_id == world.u.access_key_id
    proxy.fail("AssumeRole", 403, "AccessDenied", "injected")
    assert error_code(lambda: assume(proxy.url, world.u, world.role_r)) == "AccessDenied"


def test_proxy_as_a_process_is_controlled_over_http(moto: MotoServer, world: World) -> None:
    process = subprocess.Popen([sys.executable, "-m", "tests.tools.recording_proxy",
                                "--upstream", moto.url], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True)
    try:
        remote = ProxyClient(process.stdout.readline().strip())
        creds = assume(remote.url, world.u, world.role_r)
        assert remote.count("AssumeRole") == 1
        assert remote.params("AssumeRole")[0]["RoleArn"] == world.role_r

        ecr = client("ecr", remote.url, Keys(creds["AccessKeyId"], creds["SecretAccessKey"]),
                     creds["SessionToken"])
        assert ecr.get_authorization_token()["authorizationData"][0]["expiresAt"].year == 2015
        remote.set_ecr_expiry(3600)
        expires = ecr.get_authorization_token()["authorizationData"][0]["expiresAt"]
        assert 3500 < expires.timestamp() - time.time() <= 3600
        assert remote.requests("GetAuthorizationToken")[-1].json_protocol

        remote.delay("GetCallerIdentity", 1.0)
        started = time.monotonic()
        client("sts", remote.url, world.u).get_caller_identity()
        assert time.monotonic() - started >= 1.0

        remote.fail("GetAuthorizationToken", 400, "ThrottlingException", "Rate exceeded", count=9)
        assert error_code(ecr.get_authorization_token) == "ThrottlingException"
        remote.reset()
        assert remote.requests() == []
    finally:
        process.terminate()
        process.wait(timeout=10)

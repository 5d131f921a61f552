"""MFA: one code per source, not one per role (issue 12 §1), against moto through the proxy.

moto checks no MFA code, and its own GetSessionToken hands out a key its IAM then
refuses: for U's keys the recording proxy plays STS's GetSessionToken with a serial
(tests/tools/recording_proxy.py, registered by the ``proxy`` fixture), and signs the
calls made with that session again as U. What is asserted is what reached the proxy:
one GetSessionToken with the code, then AssumeRole calls signed by that session's key
id, without a second code.
"""

from __future__ import annotations

import time

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.terminal import Terminal

pytestmark = pytest.mark.integration


def mfa_profiles(aws_home: AwsHome) -> None:
    """Two role profiles with MFA sourced from u, and one chained from the first (no MFA of its own)."""
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    aws_home.add_role_profile("rmfab", f"mfa_serial = {MFA_SERIAL}", "role_session_name = second-role",
                              "duration_seconds = 7200")
    aws_home.add_config(f"[profile r2m]\nrole_arn = {aws_home.world.role_r2}\nsource_profile = rmfa\n")


def issued_session_ids(aws_home: AwsHome) -> set[str]:
    return set(aws_home.proxy.state.sessions)


def test_one_code_serves_every_role_sourced_from_it(aws_home: AwsHome) -> None:
    mfa_profiles(aws_home)
    first = aws_home.run(["env", "rmfa", "--mfa-code", "123456"])
    assert first.returncode == 0, first.stderr
    # No code and no terminal from here on: only the cached MFA session can sign these.
    for profile in ("rmfab", "r2m"):
        result = aws_home.run(["env", profile])
        assert result.returncode == 0, result.stderr
    renewed = aws_home.run(["env", "rmfa", "--refresh"])  # a new role session, the same MFA session
    assert renewed.returncode == 0, renewed.stderr

    [token] = aws_home.proxy.requests("GetSessionToken")
    assert token.access_key_id == aws_home.world.u.access_key_id
    assert (token.params["SerialNumber"], token.params["TokenCode"]) == (MFA_SERIAL, "123456")
    assert token.params["DurationSeconds"] == str(8 * 3600)
    [session_id] = issued_session_ids(aws_home)
    assumes = aws_home.proxy.requests("AssumeRole")
    direct = [a for a in assumes if a.params["RoleArn"] == aws_home.world.role_r]
    assert len(direct) == 3
    assert all(a.access_key_id == session_id and a.status == 200 for a in direct)
    assert all("TokenCode" not in a.params and "SerialNumber" not in a.params for a in assumes)
    # Not chained: the MFA session is no role session, so rmfab keeps its two hours (no cap, no warning).
    [second] = [a for a in direct if a.params["RoleSessionName"] == "second-role"]
    assert second.params["DurationSeconds"] == "7200"
    assert "caps" not in "".join(r.stderr for r in (first, renewed))


def test_mfa_serial_on_the_source_profile_alone_is_honoured(aws_home: AwsHome) -> None:
    aws_home.add_config(f"[profile base]\nmfa_serial = {MFA_SERIAL}\nregion = ap-northeast-1\n")
    aws_home.add_keys("base", aws_home.world.u)
    aws_home.add_role_profile("dev", source="base")
    result = aws_home.run(["env", "dev", "--mfa-code", "246810"])
    assert result.returncode == 0, result.stderr
    [token] = aws_home.proxy.requests("GetSessionToken")
    assert token.params["TokenCode"] == "246810"
    [assume] = aws_home.proxy.requests("AssumeRole")
    assert assume.access_key_id in issued_session_ids(aws_home)
    # 'env base' hands out that same MFA session: no code, no call.
    again = aws_home.run(["env", "base"])
    assert again.returncode == 0, again.stderr
    assert aws_home.proxy.count("GetSessionToken") == 1


def test_mfa_session_duration_from_the_environment(aws_home: AwsHome) -> None:
    mfa_profiles(aws_home)
    result = aws_home.run(["env", "rmfa", "--mfa-code", "123456"],
                          env_extra={"ASSUMER_MFA_SESSION_DURATION": "900"})
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.params("GetSessionToken")[0]["DurationSeconds"] == "900"
    bad = aws_home.run(["env", "rmfab", "--mfa-code", "123456"],
                       env_extra={"ASSUMER_MFA_SESSION_DURATION": "8h"})
    assert bad.returncode == 3
    assert "ASSUMER_MFA_SESSION_DURATION" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_add_clears_the_mfa_session_made_from_the_old_keys(aws_home: AwsHome) -> None:
    mfa_profiles(aws_home)
    assert aws_home.run(["env", "rmfa", "--mfa-code", "123456"]).returncode == 0
    keys = aws_home.world.u_second
    added = aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n")
    assert added.returncode == 0, added.stderr
    # The MFA session made with the old keys is gone: a new code is needed (none here, no terminal).
    result = aws_home.run(["env", "rmfab"], timeout=30)
    assert result.returncode == 4 and "--mfa-code" in result.stderr
    assert aws_home.run(["env", "rmfab", "--mfa-code", "135791"]).returncode == 0
    tokens = aws_home.proxy.requests("GetSessionToken")
    assert [t.access_key_id for t in tokens] == [aws_home.world.u.access_key_id, keys.access_key_id]


def test_the_prompt_asks_again_after_a_malformed_code_and_a_refused_one(aws_home: AwsHome) -> None:
    """On a real terminal: a mistyped code, then one AWS refuses, then the right one."""
    mfa_profiles(aws_home)
    aws_home.proxy.reject_mfa_code("111111")
    terminal = Terminal([aws_home.assumer, "env", "rmfa"], aws_home.process_env({"TERM": "dumb"}), aws_home.home)
    shown = ""
    try:
        for code in ("12ab", "111111", "975310"):
            shown += terminal.expect(r"MFA code for .* \(rmfa\): ")
            time.sleep(0.3)
            terminal.type(code + "\n")
        status = terminal.status()
    finally:
        terminal.close()
    shown += terminal.seen
    assert status == 0, shown
    assert shown.count("MFA code for") == 3
    assert "an MFA code is 6 digits; try again" in shown  # the malformed one, said on the terminal
    assert "MFA failed" in shown and "type a new code" in shown  # the refused one
    assert "975310" not in shown and "111111" not in shown  # typed with echo off
    assert [p["TokenCode"] for p in aws_home.proxy.params("GetSessionToken")] == ["111111", "975310"]
    assert aws_home.proxy.requests("GetSessionToken")[0].status == 403
    [assume] = aws_home.proxy.requests("AssumeRole")
    assert assume.access_key_id in issued_session_ids(aws_home)


def test_a_refused_code_given_on_the_command_line_fails_once(aws_home: AwsHome) -> None:
    mfa_profiles(aws_home)
    aws_home.proxy.reject_mfa_code("111111")
    result = aws_home.run(["env", "rmfa", "--mfa-code", "111111"])
    assert result.returncode == 4
    line = result.stderr.strip()
    assert "MFA failed" in line and "trust policy" not in line and len(line.splitlines()) == 1
    assert aws_home.proxy.count("GetSessionToken") == 1 and aws_home.proxy.count("AssumeRole") == 0


def test_the_proxys_mfa_sessions_act_as_the_user_and_need_their_token(aws_home: AwsHome) -> None:
    """The stand-in itself: its session is U to moto, only with its own token, and a code is required."""
    import boto3
    import botocore.exceptions

    def sts(key_id: str, secret: str, token: str | None = None):  # type: ignore[no-untyped-def]
        return boto3.client("sts", endpoint_url=aws_home.proxy.url, region_name="us-east-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token)

    u = aws_home.world.u
    with pytest.raises(botocore.exceptions.ClientError, match="MultiFactorAuthentication"):
        sts(u.access_key_id, u.secret_access_key).get_session_token(SerialNumber=MFA_SERIAL)
    issued = sts(u.access_key_id, u.secret_access_key).get_session_token(
        SerialNumber=MFA_SERIAL, TokenCode="975310", DurationSeconds=900)["Credentials"]
    assert issued["AccessKeyId"].startswith("ASIA") and issued["AccessKeyId"] != u.access_key_id
    session = sts(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    assert session.get_caller_identity()["Arn"].endswith(":user/U")
    [call] = aws_home.proxy.requests("GetCallerIdentity")
    assert call.access_key_id == issued["AccessKeyId"]  # recorded as signed by the session
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidClientTokenId"):
        sts(issued["AccessKeyId"], issued["SecretAccessKey"], "not-its-token").get_caller_identity()
    with pytest.raises(botocore.exceptions.ClientError, match="SignatureDoesNotMatch"):
        sts(issued["AccessKeyId"], "not-its-secret", issued["SessionToken"]).get_caller_identity()

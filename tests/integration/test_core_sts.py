"""What reaches STS (seen by the recording proxy) and how refusals and failures end.

moto checks neither MFA codes, durations nor a missing external id, so those are
asserted on the parameters the proxy recorded; denials are real moto denials.
Network faults, injected refusals and the duration cap of a chained role are in
test_faults.py.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome

SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")


def last_token(aws_home: AwsHome) -> dict:
    return aws_home.proxy.params("GetSessionToken")[-1]


def last_assume(aws_home: AwsHome) -> dict[str, str]:
    requests = aws_home.proxy.params("AssumeRole")
    assert requests, "no AssumeRole reached the proxy"
    return requests[-1]


def test_default_session_name_is_valid(aws_home: AwsHome) -> None:
    assert aws_home.run(["env", "r"]).returncode == 0
    assert SESSION_NAME.match(last_assume(aws_home)["RoleSessionName"])


def test_duration_option_is_sent(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "r", "--duration", "1800"])
    assert result.returncode == 0, result.stderr
    assert last_assume(aws_home)["DurationSeconds"] == "1800"


def test_duration_is_part_of_the_cache_key(aws_home: AwsHome) -> None:
    assert aws_home.run(["env", "r", "--duration", "1800"]).returncode == 0
    assert aws_home.run(["env", "r", "--duration", "3600"]).returncode == 0
    assert aws_home.proxy.count("AssumeRole") == 2


def test_profile_settings_are_sent(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("tuned", "external_id = xyz", "role_session_name = my-session",
                              "duration_seconds = 2700", "source_identity = alice")
    result = aws_home.run(["env", "tuned"])
    assert result.returncode == 0, result.stderr
    sent = last_assume(aws_home)
    assert sent["ExternalId"] == "xyz"
    assert sent["RoleSessionName"] == "my-session"
    assert sent["DurationSeconds"] == "2700"
    assert sent["SourceIdentity"] == "alice"


def test_mfa_code_option_sends_serial_and_code(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    result = aws_home.run(["env", "rmfa", "--mfa-code", "123456"])
    assert result.returncode == 0, result.stderr
    sent = last_token(aws_home)  # the source's MFA session: the role is assumed with it, without a code
    assert (sent["SerialNumber"], sent["TokenCode"]) == (MFA_SERIAL, "123456")
    assert "TokenCode" not in last_assume(aws_home)


def test_mfa_code_from_stdin(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    result = aws_home.run(["env", "rmfa", "--mfa-code", "-"], input="654321\n")
    assert result.returncode == 0, result.stderr
    assert last_token(aws_home)["TokenCode"] == "654321"


def test_mfa_code_from_stdin_leaves_the_rest_of_stdin_to_the_exec_command(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    result = aws_home.run(["exec", "rmfa", "--mfa-code", "-", "--", "cat"], input="654321\nfor the command\n")
    assert result.returncode == 0, result.stderr
    assert last_token(aws_home)["TokenCode"] == "654321"
    assert result.stdout == "for the command\n"


def test_mfa_without_terminal_or_code_fails_at_once(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    started = time.monotonic()
    result = aws_home.run(["env", "rmfa"], timeout=30)  # no tty: a new session, stdin /dev/null
    assert time.monotonic() - started < 15
    assert result.returncode == 4, result.stderr
    assert "--mfa-code" in result.stderr
    assert result.stdout == ""
    assert aws_home.proxy.count("AssumeRole") == 0


def test_mfa_session_is_cached_so_the_code_is_asked_once(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    assert aws_home.run(["env", "rmfa", "--mfa-code", "123456"]).returncode == 0
    again = aws_home.run(["env", "rmfa"])  # no code, no terminal: only a cache hit can succeed
    assert again.returncode == 0, again.stderr
    assert aws_home.proxy.count("AssumeRole") == 1


def test_role_arn_with_source_profile_option(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", aws_home.world.role_r, "--source-profile", "u", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.params("AssumeRole")[-1]["RoleArn"] == aws_home.world.role_r
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == aws_home.world.u.access_key_id


# -- refusals -----------------------------------------------------------------------------


def test_role_that_does_not_trust_the_caller_is_denied(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("untrusted", role=aws_home.world.role_untrusting)
    result = aws_home.run(["env", "untrusted"])
    assert result.returncode == 4, result.stderr
    assert "UNTRUSTING" in result.stderr
    assert "trust policy" in result.stderr  # the hint for a denied AssumeRole


def test_denied_get_session_token_hints_at_the_users_permission_not_a_trust_policy(aws_home: AwsHome) -> None:
    """moto (enforcing IAM) denies U's GetSessionToken: the hint is about that call (issue 12 §2)."""
    result = aws_home.run(["env", "u"])
    assert result.returncode == 4, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "getting a session token for profile 'u'" in line and "access denied" in line
    assert "sts:GetSessionToken" in line and "mfa_serial" in line
    assert "trust policy" not in line and "sts:AssumeRole" not in line
    assert aws_home.proxy.requests("GetSessionToken")[0].status == 403


def test_wrong_external_id_is_denied_right_one_accepted(aws_home: AwsHome) -> None:
    keys = aws_home.world.wide
    aws_home.add_keys("wide", keys)
    aws_home.add_role_profile("ext-ok", "external_id = xyz", role=aws_home.world.role_rext, source="wide")
    aws_home.add_role_profile("ext-bad", "external_id = wrong", role=aws_home.world.role_rext, source="wide")
    assert aws_home.run(["env", "ext-ok"]).returncode == 0
    assert aws_home.run(["env", "ext-bad"]).returncode == 4


@pytest.mark.parametrize("secret", ["x" * 40, None])
def test_invalid_source_keys_exit_4(aws_home: AwsHome, secret: str | None) -> None:
    key_id = aws_home.world.u.access_key_id if secret else "AKIAIOSFODNN7EXAMPLE"
    aws_home.credentials_file.write_text(f"[u]\naws_access_key_id = {key_id}\n"
                                         f"aws_secret_access_key = {secret or 'y' * 40}\n")
    result = aws_home.run(["env", "r"])
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr


def test_no_source_credentials_is_a_clear_error(aws_home: AwsHome) -> None:
    aws_home.credentials_file.write_text("")
    result = aws_home.run(["env", "r"])
    assert result.returncode in (3, 4), result.stderr
    assert "u" in result.stderr and "Traceback" not in result.stderr
    assert aws_home.proxy.count("AssumeRole") == 0


@pytest.mark.parametrize("config, hint", [
    ("[profile loop1]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = loop2\n"
     "[profile loop2]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = loop1\n",
     "loop1"),
    ("[profile badarn]\nrole_arn = not-an-arn\nsource_profile = u\n", "not-an-arn"),
])
def test_configuration_errors_exit_3(aws_home: AwsHome, config: str, hint: str) -> None:
    aws_home.add_config(config)
    profile = config.split("]")[0].split()[-1]
    result = aws_home.run(["env", profile])
    assert result.returncode == 3, result.stderr
    assert hint in result.stderr


def test_unknown_profile_exits_3(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "no-such-profile"])
    assert result.returncode == 3
    assert "no-such-profile" in result.stderr


# -- where the root of the chain gets its keys ---------------------------------------------


def test_source_profile_with_credential_process(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    helper = aws_home.home / "print-keys"
    helper.write_text("#!/bin/sh\nprintf '%s' '" + json.dumps(
        {"Version": 1, "AccessKeyId": keys.access_key_id,
         "SecretAccessKey": keys.secret_access_key}) + "'\n")
    helper.chmod(0o700)
    aws_home.add_config(f"[profile uproc]\ncredential_process = {helper}\n")
    aws_home.add_role_profile("rproc", source="uproc")
    result = aws_home.run(["env", "rproc"])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == keys.access_key_id


def test_source_profile_with_keys_in_the_config_file(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    aws_home.add_config(f"[profile ucfg]\naws_access_key_id = {keys.access_key_id}\n"
                        f"aws_secret_access_key = {keys.secret_access_key}\n")
    aws_home.add_role_profile("rcfg", source="ucfg")
    result = aws_home.run(["env", "rcfg"])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == keys.access_key_id

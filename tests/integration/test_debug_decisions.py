"""``--debug`` shows assumer's own decisions (issue 12 §2): files read, the chain, cache hit or
miss with the time left, each STS call, and never a secret. Real processes, moto behind the proxy.
"""

from __future__ import annotations

import json

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.secret_service import keyring_items, keyring_secret

pytestmark = pytest.mark.integration


def secrets_of(aws_home: AwsHome) -> list[str]:
    """Every secret the run could have printed: U's secret and the cached sessions' secrets and tokens."""
    found = [aws_home.world.u.secret_access_key]
    for item in keyring_items("assumer"):
        raw = keyring_secret("assumer", item.get("username", ""))
        text = raw.decode() if raw else ""
        if text.startswith("{"):
            data = json.loads(text)
            found += [data.get("SecretAccessKey", ""), data.get("SessionToken", "")]
    assert len(found) > 1, "no cached session to look for"
    return [value for value in found if value]


def test_debug_on_a_cache_hit_says_what_it_read_and_found(aws_home: AwsHome) -> None:
    assert aws_home.run(["env", "r"]).returncode == 0
    result = aws_home.run(["--debug", "env", "r"])
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert str(aws_home.config_file) in log and str(aws_home.credentials_file) in log  # the files read
    assert "chain for 'r': u (root: credentials_file) -> r (" + aws_home.world.role_r in log
    assert "cache hit for the session of 'r'" in log and "left" in log
    assert aws_home.proxy.count("AssumeRole") == 1  # a hit: no call
    for secret in secrets_of(aws_home):
        assert secret not in log


def test_debug_on_a_miss_names_each_sts_call_and_the_mfa_session(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    result = aws_home.run(["--debug", "env", "rmfa", "--mfa-code", "975310"])
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert "cache miss for the session of 'rmfa'" in log and "cache miss for the MFA session of 'u'" in log
    assert "cached the MFA session of 'u'" in log
    assert f"via the MFA session of {MFA_SERIAL}" in log
    assert f"GetSessionToken for profile 'u' (28800s, signed by {aws_home.world.u.access_key_id}" in log
    [session_id] = aws_home.proxy.state.sessions
    assert f"AssumeRole {aws_home.world.role_r} for profile 'rmfa' (3600s, signed by {session_id})" in log
    assert "cached the session of profile 'rmfa'" in log
    assert "975310" not in log
    for secret in secrets_of(aws_home):
        assert secret not in log

"""``--debug`` output holds nothing a replay needs: no signature, string to sign,
canonical request or payload hash (from which a masked MFA code can be brute-forced).

The signature and the payload hash are the real ones the recording proxy saw on the
wire, searched for in the whole debug log: a test of the log, not of the patterns.
"""

from __future__ import annotations

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome

CASES = {
    "AssumeRole": (["env", "r", "--refresh"], None),
    "GetSessionToken": (["env", "umfa", "--mfa-code", "246813"], "246813"),
    "GetAuthorizationToken": (["ecr-login", "r", "--print-password", "--refresh"], None),
}


@pytest.mark.parametrize("action", list(CASES))
def test_debug_log_cannot_be_replayed(aws_home: AwsHome, action: str) -> None:
    args, mfa_code = CASES[action]
    aws_home.add_config(f"[profile umfa]\nregion = us-east-1\nmfa_serial = {MFA_SERIAL}\n")
    aws_home.add_keys("umfa", aws_home.world.u)
    result = aws_home.run(["--debug", *args])
    log = result.stderr
    sent = aws_home.proxy.requests(action)
    assert sent, f"no {action} reached the proxy: {log[-2000:]}"
    # The control: the debug log is there, botocore's request lines included.
    assert "botocore" in log and action in log
    for request in sent:
        assert len(request.signature) == 64 and len(request.payload_sha256) == 64
        assert request.signature not in log, "the request's signature is in the --debug output"
        assert request.payload_sha256 not in log, "the request's payload hash is in the --debug output"
    for marker in ("CanonicalRequest", "StringToSign", "Signature:"):
        assert marker not in log
    if mfa_code:
        assert sent[0].params["TokenCode"] == mfa_code  # the code was sent ...
        assert mfa_code not in log  # ... and never logged

"""A denial's hint is about the call that was denied (issue 12 §2), and a refused MFA code is its own error."""

from __future__ import annotations

import botocore.exceptions
import pytest

from assumer.core import mfa, sts
from assumer.errors import AuthError


def denied(operation: str, message: str = "User: arn:aws:iam::123456789012:user/U is not authorized",
           code: str = "AccessDenied") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)


@pytest.mark.parametrize(("operation", "wanted", "unwanted"), [
    ("AssumeRole", "trust policy", "GetSessionToken"),
    ("GetSessionToken", "sts:GetSessionToken", "trust policy"),
    ("GetFederationToken", "sts:GetFederationToken", "trust policy"),
    ("ListAccessKeys", "ListAccessKeys", "trust policy"),
])
def test_a_denial_hints_at_what_that_call_needs(operation: str, wanted: str, unwanted: str) -> None:
    error = sts.translate(denied(operation), action="doing it", profile="u", caller="AKIAEXAMPLE")
    assert type(error) is AuthError and error.exit_code == 4
    assert "access denied" in error.message and "AKIAEXAMPLE" in error.message
    assert error.hint is not None and wanted in error.hint and unwanted not in error.hint


@pytest.mark.parametrize("operation", ["GetSessionToken", "AssumeRole"])
def test_a_refused_mfa_code_is_an_mfa_error_not_a_trust_policy(operation: str) -> None:
    error = sts.translate(denied(operation, "MultiFactorAuthentication failed with invalid MFA one time pass code. "),
                          action="doing it", profile="u")
    assert isinstance(error, mfa.CodeRejected) and error.exit_code == 4
    assert "MFA failed" in error.message
    assert error.hint is not None and "trust policy" not in error.hint and "code" in error.hint

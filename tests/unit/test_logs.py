"""``--debug`` redaction: botocore-shaped log lines never print a secret.

Lines are sent through the real pipeline (``logs.enable_debug``: the root handler on
stderr with the redacting formatter) from the loggers botocore uses, with %-style
arguments as botocore passes them. Secrets are checked two ways: registered values
(what assumer does as soon as it holds one) and unregistered values that only the
field patterns can catch (defence in depth, e.g. a body logged before parsing).
"""

from __future__ import annotations

import io
import logging
import sys

import pytest

from assumer import logs

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6+abc/def=="
SOURCE_TOKEN = "FwoGZXIvYXdzEBQaDHsourcetoken+/=="
KEY_ID = "ASIAIOSFODNN7EXAMPLE"

STS_XML = f"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>{KEY_ID}</AccessKeyId>
      <SecretAccessKey>{SECRET}</SecretAccessKey>
      <SessionToken>{TOKEN}</SessionToken>
      <Expiration>2026-01-01T00:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
</AssumeRoleResponse>"""


def botocore_lines() -> list[tuple[str, str, tuple]]:
    """(logger, format, args) as botocore, urllib3 and assumer log them."""
    return [
        ("botocore.parsers", "Response body:\n%r", (STS_XML.encode(),)),
        ("botocore.parsers", "Response body:\n%s", (STS_XML,)),
        ("botocore.parsers", "Response headers: %r", ({"x-amzn-RequestId": "1", "Content-Type": "text/xml"},)),
        ("botocore.hooks", "Event after-call.sts.AssumeRole: calling handler %s with %r",
         ("h", {"Credentials": {"AccessKeyId": KEY_ID, "SecretAccessKey": SECRET, "SessionToken": TOKEN}})),
        ("botocore.endpoint", "Making request for %s with params: %s",
         ("OperationModel(name=AssumeRole)",
          {"url_path": "/", "method": "POST",
           "headers": {"X-Amz-Security-Token": SOURCE_TOKEN, "User-Agent": "Boto3"},
           "body": {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::1:role/R", "TokenCode": "123456"}})),
        ("botocore.endpoint", "Sending http request: %s",
         (f"<AWSPreparedRequest method=POST, headers={{'X-Amz-Security-Token': b'{SOURCE_TOKEN}', "
          f"'Authorization': b'AWS4-HMAC-SHA256 Credential={KEY_ID}/20260101/us-east-1/sts/aws4_request, "
          f"SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef'}}>",)),
        ("botocore.auth", "CanonicalRequest:\n%s",
         (f"POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:sts.amazonaws.com\n"
          f"x-amz-date:20260101T000000Z\nx-amz-security-token:{SOURCE_TOKEN}\n\nhost;x-amz-date\nabc",)),
        ("botocore.credentials", "credential_process returned %s",
         (f'{{"Version": 1, "AccessKeyId": "{KEY_ID}", "SecretAccessKey": "{SECRET}", "SessionToken": "{TOKEN}"}}',)),
        ("botocore.endpoint", "Request body: %s",
         (f"Action=GetSessionToken&TokenCode=654321&X-Amz-Security-Token={SOURCE_TOKEN}",)),
        ("assumer.store.cache", "stored %s", (f"{{'SecretAccessKey': '{SECRET}', 'SessionToken': '{TOKEN}'}}",)),
        ("botocore.configprovider", "keys %s", (f"aws_secret_access_key = {SECRET}",)),
        ("urllib3.connectionpool", '%s://%s:%s "%s %s %s" %s %s', ("http", "127.0.0.1", 80, "POST", "/", "HTTP/1.1",
                                                                  200, 1234)),
    ]


@pytest.fixture
def debug_stderr(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``logs.enable_debug()`` writing into a buffer; logging and the registry restored after."""
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    root, signer = logging.getLogger(), logging.getLogger("botocore.auth")
    saved = (root.handlers[:], root.level, set(logs._known), signer.level)
    logs._known.clear()
    logs.enable_debug()
    yield buffer
    root.handlers[:], root.level = saved[0], saved[1]
    signer.setLevel(saved[3])
    logs._known.clear()
    logs._known.update(saved[2])


def emit_all() -> None:
    for name, fmt, args in botocore_lines():
        logging.getLogger(name).debug(fmt, *args)


def test_registered_secrets_never_reach_stderr(debug_stderr: io.StringIO) -> None:
    for value in (SECRET, TOKEN, SOURCE_TOKEN):
        logs.register_secret(value)
    emit_all()
    out = debug_stderr.getvalue()
    assert "Response body" in out  # the lines were logged ...
    assert "CanonicalRequest" not in out  # ... except the signer's (botocore.auth), silenced at --debug
    for value in (SECRET, TOKEN, SOURCE_TOKEN, "123456", "654321"):
        assert value not in out
    assert KEY_ID in out  # key ids are not secret, and help debugging
    assert logs.REDACTED in out


def test_field_patterns_catch_unregistered_secrets(debug_stderr: io.StringIO) -> None:
    """Nothing registered: every line shape above must still hide the values."""
    emit_all()
    out = debug_stderr.getvalue()
    leaked = [value for value in (SECRET, TOKEN, SOURCE_TOKEN, "123456", "654321") if value in out]
    assert not leaked, out


def test_redaction_survives_repr_escaping(debug_stderr: io.StringIO) -> None:
    """A registered secret inside a bytes repr or JSON is still found (no escaping in these alphabets)."""
    logs.register_secret(SECRET)
    logging.getLogger("botocore.parsers").debug("body %r", {"nested": [SECRET.encode()]})
    logging.getLogger("botocore.parsers").debug("body %s", f'{{"k": "{SECRET}"}}')
    assert SECRET not in debug_stderr.getvalue()


def test_traceback_in_debug_output_is_redacted(debug_stderr: io.StringIO) -> None:
    logs.register_secret(SECRET)
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        logging.getLogger("assumer").debug("boom", exc_info=True)
    out = debug_stderr.getvalue()
    assert "Traceback" in out and "RuntimeError" in out
    assert SECRET not in out


def test_cli_report_redacts_the_error_line_and_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from assumer.cli import app as cli

    logs.register_secret(SECRET)
    try:
        try:
            raise ValueError(f"bad {SECRET}")
        except ValueError as exc:
            cli._report(exc, debug=True)
    finally:
        logs._known.discard(SECRET)
    err = capsys.readouterr().err
    assert "ValueError" in err and "Traceback" in err
    assert SECRET not in err


def test_short_values_are_not_registered() -> None:
    """Registering a 1-5 character value would redact ordinary words; it is refused."""
    before = set(logs._known)
    logs.register_secret("abc")
    logs.register_secret("")
    logs.register_secret(None)
    assert logs._known == before


def test_redact_catches_a_leak_when_unprotected(debug_stderr: io.StringIO) -> None:
    """The checks above can fail: a secret in a field no pattern knows, unregistered, shows."""
    logging.getLogger("botocore").debug("odd field %s", f"Hidden={SECRET}")
    assert SECRET in debug_stderr.getvalue()
    logs.register_secret(SECRET)
    logging.getLogger("botocore").debug("odd field %s", f"Hidden={SECRET}")
    assert debug_stderr.getvalue().count(SECRET) == 1

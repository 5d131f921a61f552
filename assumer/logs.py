"""``--debug`` logging on stderr, with every secret redacted.

One filter on the one handler sees every record, botocore's included (botocore
logs whole response bodies at DEBUG, and an STS response holds the secret key
and the session token). Secrets are redacted two ways: known values registered
as they appear, and patterns for the fields that carry them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

REDACTED = "***"

_known: set[str] = set()
_PATTERN_SOURCES: list[str | tuple[str, re.RegexFlag]] = [
    # XML bodies (STS) and JSON bodies (credential_process, ECR tokens).
    (r"(<(?:SecretAccessKey|SessionToken|authorizationToken)>)[^<]*(</)"),
    (r'("(?:SecretAccessKey|SessionToken|Secret|Password|authorizationToken|secret_access_key|'
               r'session_token|aws_secret_access_key|aws_session_token)"\s*:\s*")[^"]*(")', re.I),
    # Python reprs of dicts and headers: 'SecretAccessKey': '...', 'X-Amz-Security-Token': '...'
    (r"('(?:SecretAccessKey|SessionToken|Secret|Password|authorizationToken|X-Amz-Security-Token|"
               r"TokenCode|aws_secret_access_key|aws_session_token)'\s*:\s*(?:b)?')[^']*(')", re.I),
    # Query strings and form bodies.
    (r"((?:TokenCode|SecretAccessKey|SessionToken|X-Amz-Security-Token)=)[^&\s'\"]*()", re.I),
    # SigV4's canonical request (x-amz-security-token:...) and INI lines (aws_secret_access_key = ...).
    (r"((?:x-amz-security-token|aws_secret_access_key|aws_session_token|aws_security_token)[ \t]*[:=][ \t]*)"
               r"[^\s'\"&,}]+()", re.I),
    # Authorization: AWS4-HMAC-SHA256 Credential=..., Signature=<hex> (X-Amz-Signature= in a query too)
    (r"(Signature=)[0-9a-f]+()", re.I),
]
# In --debug output, any SHA-256 in hex as well: a SigV4 signature, a string-to-sign's or a
# payload's hash. With a signature and its request a call can be replayed; a payload hash lets
# a masked MFA code (one of a million) be recovered by brute force. (Not in error lines, where
# a 64-digit hex is an image digest the user needs to see.)
_HASH_SOURCE = r"\b[0-9a-fA-F]{64}\b"
# botocore's signer logs the canonical request, the string to sign and the signature
# at DEBUG: nothing a bug report needs, everything a replay does.
_SILENCED_LOGGERS = ("botocore.auth",)


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears in a later log line or traceback."""
    if value and len(value) >= 6:
        _known.add(value)


def register_secrets(values: Iterable[str | None]) -> None:
    """:func:`register_secret` for each of ``values`` (a Credentials' ``secrets()``)."""
    for value in values:
        register_secret(value)


_compiled: list[re.Pattern[str]] = []
_enabled = False


def _patterns() -> list[re.Pattern[str]]:
    # Compiled on first use: a cache hit never redacts, and compiling costs start-up time.
    if not _compiled:
        _compiled.extend(re.compile(*source) if isinstance(source, tuple) else re.compile(source)
                         for source in _PATTERN_SOURCES)
    return _compiled


def redact(text: str) -> str:
    """Remove every known secret and every secret-shaped field from ``text``."""
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _patterns():
        text = pattern.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)
    return text


def debug(logger: str, message: str, *args: object, exc_info: bool = False) -> None:
    """Log at DEBUG under ``logger`` when ``--debug`` is on; otherwise cost nothing.

    ``logging`` (with ``traceback`` and ``threading``) is imported only when
    debugging: it is a visible share of a cache hit's start-up.
    """
    if _enabled:
        import logging

        logging.getLogger(logger).debug(message, *args, exc_info=exc_info)


def debugging() -> bool:
    """True under ``--debug``: for a debug line whose arguments cost something to build."""
    return _enabled


def enable_debug() -> None:
    """Send DEBUG logs from assumer and botocore to stderr through the redactor."""
    import logging

    class RedactingFormatter(logging.Formatter):
        """Formats as usual, then redacts the whole line (message, args and traceback)."""

        hashes = re.compile(_HASH_SOURCE)

        def format(self, record: logging.LogRecord) -> str:
            return self.hashes.sub(REDACTED, redact(super().format(record)))

    global _enabled  # noqa: PLW0603 - one switch for the process, read by debug() on every call
    _enabled = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    for name in _SILENCED_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)

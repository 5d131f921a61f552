"""The Credentials value object, its (de)serialisation and expiry maths.

Pure: no keyring, no network, no botocore.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from assumer import fastjson
from assumer.records import Record

if TYPE_CHECKING:  # _datetime has no stubs; its classes are datetime's
    from datetime import datetime, timezone
else:
    try:
        # The C classes that datetime.py re-exports (datetime.datetime is _datetime.datetime):
        # datetime.py first defines its pure-Python fallback, which cost a cache hit about 0.8 ms.
        from _datetime import datetime, timezone
    except ImportError:  # an interpreter without the C module
        from datetime import datetime, timezone

if TYPE_CHECKING:
    from collections.abc import Mapping

# Below this many seconds left, botocore re-runs a credential_process on every
# call (its advisory refresh window is 15 minutes), so caching for less would make
# every SDK call pay for an AssumeRole. A shorter session is served on the renewal
# rule instead (Credentials.is_fresh).
DEFAULT_MIN_TTL = 900


def min_ttl() -> int:
    """``ASSUMER_MIN_TTL``: seconds a cached session must have left to be handed out (default 900)."""
    raw = os.environ.get("ASSUMER_MIN_TTL")
    if raw is None:
        return DEFAULT_MIN_TTL
    try:
        value = int(raw)
    except ValueError:
        from assumer import ui

        ui.warn(f"ignoring ASSUMER_MIN_TTL={raw!r}: not a number of seconds")
        return DEFAULT_MIN_TTL
    return max(value, 0)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (the clock every expiry is compared with)."""
    return datetime.now(timezone.utc)


def parse_timestamp(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or an offset) into an aware UTC datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second, as AWS SDKs expect."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Credentials(Record):
    """A set of AWS credentials; ``expiration`` is None for long-term keys.

    A :class:`~assumer.records.Record`: a NamedTuple or a dataclass would cost a cache
    hit the compiler's start-up (see :mod:`assumer.records`).
    """

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: datetime | None = None
    # When it was obtained (kept with a cached session, never in credential_process output).
    obtained: datetime | None = None

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***', "
            f"session_token={'***' if self.session_token else None}, "
            f"expiration={self.expiration!r})"
        )

    def seconds_left(self, now: datetime) -> float:
        """Seconds until expiry (infinite for long-term keys)."""
        if self.expiration is None:
            return float("inf")
        return (self.expiration - now).total_seconds()

    def lifetime(self) -> float | None:
        """Seconds from obtained to expiry, when both are known."""
        if self.expiration is None or self.obtained is None:
            return None
        return (self.expiration - self.obtained).total_seconds()

    def is_fresh(self, now: datetime, min_ttl: float = DEFAULT_MIN_TTL) -> bool:
        """The renewal rule: served while at least ``min(min_ttl, lifetime / 2)`` seconds are left.

        A 900 s session is reused for 450 s even with the default 900 s minimum.
        Without a known lifetime (a session cached by an older version), ``min_ttl``.
        """
        lifetime = self.lifetime()
        threshold = min_ttl if lifetime is None else min(min_ttl, lifetime / 2)
        return self.seconds_left(now) >= threshold

    def to_mapping(self) -> dict[str, str]:
        """AWS field names (an STS ``Credentials`` block), absent fields left out."""
        data = {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}
        if self.session_token:
            data["SessionToken"] = self.session_token
        if self.expiration is not None:
            data["Expiration"] = format_timestamp(self.expiration)
        return data

    def to_json(self) -> str:
        """Serialise for the keyring (AWS field names, so the entry is self-describing; ``Obtained`` too)."""
        data = self.to_mapping()
        if self.obtained is not None:
            data["Obtained"] = format_timestamp(self.obtained)
        return fastjson.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        """Inverse of :meth:`to_json`; raises ValueError on anything malformed."""
        try:
            data = fastjson.loads(text)
        except ValueError as exc:
            if not hasattr(exc, "msg"):  # not a JSONDecodeError (e.g. an int too long): as json raised it
                raise
            raise ValueError(f"not JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return cls.from_mapping(data)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Credentials:
        """Build from a mapping with AWS field names (an STS ``Credentials`` block)."""
        key_id = data.get("AccessKeyId")
        secret = data.get("SecretAccessKey")
        token = data.get("SessionToken")
        expiration = data.get("Expiration")
        obtained = data.get("Obtained")
        if not isinstance(key_id, str) or not key_id or not isinstance(secret, str) or not secret:
            raise ValueError("AccessKeyId or SecretAccessKey missing")
        if token is not None and not isinstance(token, str):
            raise ValueError("SessionToken is not a string")
        if isinstance(expiration, str):
            expiration = parse_timestamp(expiration)
        elif isinstance(expiration, datetime):
            expiration = expiration.astimezone(timezone.utc)
        elif expiration is not None:
            raise ValueError("Expiration is not a timestamp")
        if obtained is not None and not isinstance(obtained, str):
            raise ValueError("Obtained is not a timestamp")
        return cls(key_id, secret, token or None, expiration, parse_timestamp(obtained) if obtained else None)

    def secrets(self) -> tuple[str, ...]:
        """The values that must never reach argv, a log or a plain file."""
        return tuple(v for v in (self.secret_access_key, self.session_token) if v)

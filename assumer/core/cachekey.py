"""Cache keys: everything that decides a session, hashed into one keyring entry name.

Pure functions of a resolved chain and the environment, so the fast path can
compute the key of a cache hit without building anything else.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
from collections.abc import Iterable, Mapping

from assumer.core.profiles import DEFAULT_DURATION, Link, RoleSpec


def cache_key(kind: str, parts: Iterable[object]) -> str:
    """A stable key from everything that changes what is cached (hashed: parts may be long)."""
    digest = hashlib.sha256(json.dumps(list(parts), sort_keys=True, default=str).encode()).hexdigest()
    return f"{kind}:{digest[:40]}"


def default_session_name() -> str:
    """``assumer-<user>``, cut to STS's rules: identifies who assumed the role in CloudTrail."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    return re.sub(r"[^\w+=,.@-]", "-", f"assumer-{user}")[:64]


def sts_endpoint(environ: Mapping[str, str]) -> str:
    """The STS endpoint override in the environment ("" for AWS's own)."""
    return environ.get("AWS_ENDPOINT_URL_STS") or environ.get("AWS_ENDPOINT_URL") or ""


def session_key(link: Link, *, environ: Mapping[str, str], token_duration: int | None = None) -> str:
    """The key of the session a command asks for.

    A role's AssumeRole session, or, for a profile with long-term keys and no
    role, its GetSessionToken session of ``token_duration`` seconds.
    """
    if isinstance(link, RoleSpec):
        return role_key(link, environ=environ)
    return cache_key("session", [
        "token", link.profile, link.kind, link.mfa_serial, token_duration or DEFAULT_DURATION, link.region,
        sts_endpoint(environ),
    ])


def role_key(spec: RoleSpec, *, environ: Mapping[str, str]) -> str:
    """The key of one AssumeRole session: the role, its settings and, recursively, its source."""
    return cache_key("session", [
        "role", spec.role_arn, spec.session_name or default_session_name(), spec.duration_seconds,
        spec.external_id, spec.mfa_serial, spec.source_identity, spec.region, sts_endpoint(environ),
        _source_part(spec.source, environ),
    ])


def _source_part(source: Link, environ: Mapping[str, str]) -> object:
    if isinstance(source, RoleSpec):
        return role_key(source, environ=environ)
    if source.kind == "environment":
        return ["env", environ.get("AWS_ACCESS_KEY_ID", "")]
    return ["profile", source.profile]


"""What a command asks for: the chain of a profile with the command line's overrides.

Apart from :mod:`assumer.core.session` (which imports it) because a cache hit
needs only this: resolving the chain to compute its cache key, without the
resolver's store, lock, MFA and logging machinery.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from assumer.core.profiles import AwsConfig, Link
from assumer.records import Record


class SessionOptions(Record):
    """What the command line can change about a session."""

    duration: int | None = None
    mfa_code: str | None = None
    refresh: bool = False
    no_cache: bool = False
    region: str | None = None
    source_profile: str | None = None


def resolve(name: str, options: SessionOptions, *, config: AwsConfig | None = None,
            environ: Mapping[str, str] | None = None) -> Link:
    """The chain for ``name`` with the command line's overrides, region defaulted from the environment."""
    env = os.environ if environ is None else environ
    config = config or AwsConfig.load(env)
    target = config.resolve(name, source_profile=options.source_profile, duration=options.duration,
                            region=options.region)
    if target.region is None:
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region:
            target = target._replace(region=region)
    return target

"""The suite's ~/.aws, written in one place: the README's user U and role R, and r2 chained from r.

Integration tests get it through the ``aws_home`` fixture (with moto's real keys and
ARNs); unit tests that need the same profiles with stand-in keys call these writers
too. ``role_profile`` and ``credentials`` write the extra profiles a test adds.
"""

from __future__ import annotations

from tests.tools.moto_server import ACCOUNT, REGION, role_arn

ROLE_R = role_arn("R")
ROLE_R2 = role_arn("R2")
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/U"


def profile_header(name: str) -> str:
    """``[profile NAME]``, NAME in double quotes when it holds white space, a quote or a backslash.

    botocore (and assumer, which reads the files as botocore does) splits the header
    as a shell would (shlex): quoted, any such name is one word.
    """
    if any(c in name for c in " \t\r\n'\"\\"):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"[profile {name}]"


def role_profile(name: str, *lines: str, role: str = ROLE_R, source: str | None = "u",
                 region: str | None = REGION) -> str:
    """``[profile NAME]`` assuming ``role`` from ``source`` (none: no source_profile), then ``lines``."""
    body = [f"role_arn = {role}"]
    if source is not None:
        body.append(f"source_profile = {source}")
    if region is not None:
        body.append(f"region = {region}")
    return profile_header(name) + "\n" + "\n".join([*body, *lines]) + "\n"


def standard_config(role_r: str = ROLE_R, role_r2: str = ROLE_R2, region: str = REGION) -> str:
    """The README's ~/.aws/config: u (U's keys), r (R from u), plus r2 (R2 chained from r)."""
    return (f"[profile u]\nregion = {region}\n\n"
            + role_profile("r", role=role_r, region=region) + "\n"
            + role_profile("r2", role=role_r2, source="r", region=region))


def credentials(profile: str, access_key_id: str, secret_access_key: str) -> str:
    """A ~/.aws/credentials section holding one pair of long-term keys."""
    return (f"[{profile}]\naws_access_key_id = {access_key_id}\n"
            f"aws_secret_access_key = {secret_access_key}\n")

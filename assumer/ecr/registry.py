"""ECR registry hosts and image references: pure parsing, no network."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assumer.errors import ConfigError
from assumer.records import Record

if TYPE_CHECKING:  # the partition table is imported where a partition is looked up: a helper's cache hit needs none
    from assumer.ecr.partitions import Partition

# The AWS ECR credential helper's pattern, verbatim (amazon-ecr-credential-helper,
# ecr-login/api/client.go, ecrPattern), matched case-insensitively against the whole host.
# Text, compiled at first use: an ASCII host (every real one) is matched by _ecr_host_ascii instead.
_ECR_HOST = (
    r"^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(com(\.cn)?|eu)|on\.(aws|"
    r"amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$"
)
# The pattern's pieces, for _ecr_host_ascii: its DNS suffixes, and the characters of a region.
_ECR_SUFFIXES = frozenset({"amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", "on.aws",
                           "on.amazonwebservices.com.cn", "sc2s.sgov.gov", "c2s.ic.gov", "cloud.adc-e.uk",
                           "csp.hci.ic.gov"})
_REGION_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_REGION_CHARACTERS = _REGION_FIRST | {"-", "_"}
# ECR Public: its tokens come from another API (ecr-public), and anonymous pulls need none.
PUBLIC_ECR = "public.ecr.aws"
# ECR's dual-stack suffixes are not in botocore's partition data: each belongs with a partition's own.
_DUAL_STACK_SUFFIXES = {"on.aws": "amazonaws.com", "on.amazonwebservices.com.cn": "amazonaws.com.cn"}
# The next three are text, compiled at first use (re caches them): the helper's cache hit needs none.
_HOST = (r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
         r"(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
# \Z, not $ ("$" also matches before a final newline).
_REPOSITORY = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z"
_TAG = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z"


class Registry(Record):
    """An ECR registry host and what its name says."""

    host: str
    account: str
    region: str
    fips: bool = False
    dual_stack: bool = False
    suffix: str = "amazonaws.com"  # the DNS suffix after the region

    @property
    def partition(self) -> str:
        """The partition whose ECR runs this host: its DNS suffix, and its region where a suffix is shared."""
        return host_partition(self.suffix, self.region)


def strip_url(value: str) -> str:
    """``https://HOST[:PORT]/path`` or ``HOST/path`` -> ``HOST[:PORT]`` (what engines and helpers key on)."""
    text = value.strip()
    if "://" in text:
        from urllib.parse import urlsplit  # 2 ms: not for the bare host an engine hands the helper

        text = urlsplit(text).netloc
    return text.split("/", 1)[0].lower()


def ecr_candidate(value: str) -> str:
    """What the ECR host pattern is matched against: the host without scheme, path and an explicit ``:443``."""
    host = strip_url(value)
    return host[:-len(":443")] if host.endswith(":443") else host


def ecr_host_parts(host: str) -> tuple[str, bool, str, str] | None:
    """(account, fips, region, suffix) when :data:`_ECR_HOST` matches all of ``host``, else None.

    An ASCII host is read with str methods (compiling the pattern would cost a
    helper's cache hit about 0.7 ms); any other is matched by the pattern itself,
    whose ``\\d`` and case-insensitive letters also match some non-ASCII
    characters. tests/unit/test_ecr.py compares the two.
    """
    if not host.isascii():
        match = re.fullmatch(_ECR_HOST, host, re.IGNORECASE)
        return (match.group(1), bool(match.group(2)), match.group(3), match.group(4)) if match else None
    return _ecr_host_ascii(host)


def _ecr_host_ascii(host: str) -> tuple[str, bool, str, str] | None:
    """:func:`ecr_host_parts` of an ASCII host: the pattern, one piece after the other."""
    lower = host.lower()  # IGNORECASE, for ASCII
    # ^(\d{12})\.dkr[.-]ecr
    if not (host[:12].isdigit() and lower[12:20] in (".dkr.ecr", ".dkr-ecr")):
        return None
    # (-fips)?\.
    fips = lower.startswith("-fips", 20)
    start = 26 if fips else 21
    if lower[start - 1:start] != ".":
        return None
    # ([a-zA-Z0-9][a-zA-Z0-9-_]*)\. : a region has no dot, so it ends at the first one
    end = lower.find(".", start)
    region = lower[start:end]
    if end < 0 or not region or region[0] not in _REGION_FIRST or not _REGION_CHARACTERS.issuperset(region):
        return None
    # (amazonaws\.(com(\.cn)?|eu)|on\.(aws|...)|...)$ : the whole rest (a final newline is not matched)
    if lower[end + 1:] not in _ECR_SUFFIXES:
        return None
    return host[:12], fips, host[start:end], host[end + 1:]


def find_registry(value: str) -> Registry | None:
    """The ECR registry ``value`` names (with or without ``https://``, a path or ``:443``), else None.

    Every partition's hosts, as the AWS ECR credential helper recognises them:
    ``ACCOUNT.dkr.ecr[-fips].REGION.SUFFIX`` and the dual-stack ``ACCOUNT.dkr-ecr[-fips].REGION.on.aws``.
    """
    host = ecr_candidate(value)
    parts = ecr_host_parts(host)
    if parts is None:
        return None
    account, fips, region, suffix = parts
    return Registry(host=host, account=account, region=region, fips=fips,
                    dual_stack=host[len(account) + 1:].startswith("dkr-ecr"), suffix=suffix)


def parse_registry(value: str) -> Registry:
    """Parse an ECR registry host; anything else is a ConfigError saying what was expected."""
    found = find_registry(value)
    if found is None:
        raise ConfigError(
            f"{value!r} is not an ECR registry host",
            hint="expected ACCOUNT.dkr.ecr.REGION.amazonaws.com (or another partition's suffix, "
                 "or ACCOUNT.dkr-ecr.REGION.on.aws)",
        )
    return found


def is_public_ecr(value: str) -> bool:
    """True for ECR Public (``public.ecr.aws``), whose tokens assumer does not fetch."""
    return ecr_candidate(value) == PUBLIC_ECR


def region_partition(region: str | None) -> Partition | None:
    """The partition of ``region``, as botocore decides it: its known regions first, then each region pattern."""
    if not region:
        return None
    from assumer.ecr.partitions import PARTITIONS

    for partition in PARTITIONS:
        if region in partition.regions:
            return partition
    for partition in PARTITIONS:
        if re.match(partition.region_regex, region):
            return partition
    return None


def host_partition(suffix: str, region: str) -> str:
    """The partition of an ECR host: the one with its DNS suffix (amazonaws.com is shared: the region decides)."""
    from assumer.ecr.partitions import PARTITIONS

    suffix = _DUAL_STACK_SUFFIXES.get(suffix.lower(), suffix.lower())
    candidates = [p for p in PARTITIONS if p.dns_suffix == suffix]
    by_region = region_partition(region.lower())
    if by_region is not None and by_region in candidates:
        return by_region.id
    return candidates[0].id if candidates else "aws"


def arn_partition(arn: str | None) -> str | None:
    """``aws-cn`` of ``arn:aws-cn:iam::...`` (None when there is no ARN)."""
    parts = (arn or "").split(":")
    return parts[1] if len(parts) > 5 and parts[0] == "arn" and parts[1] else None


def session_partition(region: str | None, role_arn: str | None) -> str | None:
    """The partition a session belongs to: its region's, else its role's (None: cannot tell)."""
    found = region_partition(region)
    return found.id if found is not None else arn_partition(role_arn)


def check_host(value: str) -> str:
    """Validate a ``--registry HOST[:PORT]`` override (any host) and return it normalised."""
    host = strip_url(value)
    if not host or not re.match(_HOST, host):
        raise ConfigError(f"--registry {value!r} is not a HOST[:PORT]", hint="for example 127.0.0.1:5000")
    return host


def default_host(account: str, region: str) -> str:
    """The ECR registry of ``account`` in ``region``, with the DNS suffix of the region's partition.

    A region no partition claims gets ``amazonaws.com``, as botocore falls back to the ``aws`` partition.
    """
    partition = region_partition(region)
    suffix = partition.dns_suffix if partition is not None else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def account_of(role_arn: str | None) -> str | None:
    """The account of ``arn:aws:iam::ACCOUNT:role/NAME`` (None when there is no role)."""
    if not role_arn:
        return None
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and re.fullmatch(r"\d{12}", parts[4]) else None


class ImageDestination(Record):
    """Where an image goes: ``HOST/REPOSITORY:TAG``."""

    host: str
    repository: str
    tag: str

    def reference(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"


def split_image(image: str) -> tuple[str | None, str, str | None]:
    """``[REGISTRY/]PATH[:TAG][@DIGEST]`` -> (registry or None, path, tag or None).

    The first component is a registry when it has a dot or a port or is
    ``localhost`` (Docker's own rule).
    """
    name = image.split("@", 1)[0]
    first, _, rest = name.partition("/")
    registry = None
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    tag = None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    if registry in (None, "docker.io", "index.docker.io") and name.startswith("library/"):
        name = name[len("library/"):]
    return registry, name, tag


def image_destination(image: str, host: str, *, repository: str | None = None,
                      tag: str | None = None) -> ImageDestination:
    """Where IMAGE goes: ``localhost/app:latest`` -> repository ``app``, tag ``latest``.

    ``--repository`` and ``--tag`` override; the result is checked against ECR's
    naming rules so a bad name fails here, not half-way through a push.
    """
    _, path, image_tag = split_image(image)
    repository = repository or path
    tag = tag or image_tag or "latest"
    if not re.match(_REPOSITORY, repository) or len(repository) > 256:
        raise ConfigError(f"{repository!r} is not a valid repository name",
                          hint="lower-case letters, digits, '.', '_', '-' and '/' (use --repository)")
    if not re.match(_TAG, tag):
        raise ConfigError(f"{tag!r} is not a valid tag", hint="letters, digits, '_', '.', '-', up to 128 (use --tag)")
    return ImageDestination(host, repository, tag)

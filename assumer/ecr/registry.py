"""ECR registry hosts and image references: pure parsing, no network."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

from assumer.errors import ConfigError

_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\."
    r"(?:dkr\.ecr(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?P<fips2>-fips)?\.(?P<region2>[a-z0-9-]+)\.on\.aws)$"
)
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")
# \Z, not $ ("$" also matches before a final newline).
_REPOSITORY = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*\Z")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")


class Registry(NamedTuple):
    """An ECR registry host and what its name says."""

    host: str
    account: str
    region: str
    fips: bool = False
    dual_stack: bool = False


def strip_url(value: str) -> str:
    """``https://HOST[:PORT]/path`` or ``HOST/path`` -> ``HOST[:PORT]`` (what engines and helpers key on)."""
    text = value.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    return text.split("/", 1)[0].lower()


def parse_registry(value: str) -> Registry:
    """Parse an ECR registry host (with or without ``https://`` and a path).

    Accepts ``<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`` and the
    dual-stack ``<account>.dkr-ecr[-fips].<region>.on.aws``; anything else is a
    ConfigError saying what was expected.
    """
    host = strip_url(value)
    match = _ECR_HOST.match(host)
    if not match:
        raise ConfigError(
            f"{value!r} is not an ECR registry host",
            hint="expected ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .com.cn, or ACCOUNT.dkr-ecr.REGION.on.aws); "
                 "--registry HOST[:PORT] accepts any other registry",
        )
    dual = match.group("region2") is not None
    return Registry(
        host=host,
        account=match.group("account"),
        region=match.group("region2") if dual else match.group("region"),
        fips=bool(match.group("fips2") if dual else match.group("fips")),
        dual_stack=dual,
    )


def check_host(value: str) -> str:
    """Validate a ``--registry HOST[:PORT]`` override (any host) and return it normalised."""
    host = strip_url(value)
    if not host or not _HOST.match(host):
        raise ConfigError(f"--registry {value!r} is not a HOST[:PORT]", hint="for example 127.0.0.1:5000")
    return host


def default_host(account: str, region: str) -> str:
    """The ECR registry of ``account`` in ``region`` (``.com.cn`` in the China regions)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def account_of(role_arn: str | None) -> str | None:
    """The account of ``arn:aws:iam::ACCOUNT:role/NAME`` (None when there is no role)."""
    if not role_arn:
        return None
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and re.fullmatch(r"\d{12}", parts[4]) else None


class ImageDestination(NamedTuple):
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
    if not _REPOSITORY.match(repository) or len(repository) > 256:
        raise ConfigError(f"{repository!r} is not a valid repository name",
                          hint="lower-case letters, digits, '.', '_', '-' and '/' (use --repository)")
    if not _TAG.match(tag):
        raise ConfigError(f"{tag!r} is not a valid tag", hint="letters, digits, '_', '.', '-', up to 128 (use --tag)")
    return ImageDestination(host, repository, tag)

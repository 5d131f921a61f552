"""Fixtures of the ECR integration tests (imported by tests/integration/test_ecr*.py).

The registry, the podman service and the test image are started once per pytest
session, however many modules import these fixtures (they are kept on the pytest
config and stopped by its clean-up), and the registry's CA is removed from
/etc/containers/certs.d when they stop.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.conftest import AwsHome
from tests.tools import oci
from tests.tools.engine import PodmanService
from tests.tools.moto_server import REGION, World
from tests.tools.registry import Registry, moto_password

IMAGE = "localhost/app:latest"
REPOSITORY = "app"


@dataclass
class EcrServices:
    """The registry, the engine and the image every ECR test uses."""

    registry: Registry
    podman: PodmanService
    layout: Path
    password: str = field(repr=False)  # pytest prints fixtures in failure reports, which end up in logs
    image: str = IMAGE


def _admin_ecr(world: World):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("ecr", endpoint_url=world.endpoint, region_name=REGION,
                        aws_access_key_id=world.admin.access_key_id,
                        aws_secret_access_key=world.admin.secret_access_key)


def create_repository(world: World, name: str) -> None:
    """Create an ECR repository in moto (as ADMIN), so a push's existence check passes."""
    client = _admin_ecr(world)
    try:
        client.create_repository(repositoryName=name)
    except client.exceptions.RepositoryAlreadyExistsException:
        pass


def _start(request: pytest.FixtureRequest) -> EcrServices:
    config = request.config
    existing = getattr(config, "_assumer_ecr_services", None)
    if existing is not None:
        return existing
    world: World = request.getfixturevalue("world")
    base = request.getfixturevalue("tmp_path_factory").mktemp("ecr")
    password = moto_password(world.account)
    registry = Registry(base / "registry", password=password)
    podman = PodmanService(base / "podman")
    config.add_cleanup(registry.stop)
    config.add_cleanup(podman.stop)
    registry.start()
    podman.start()
    image = oci.write_layout(base / "image", name=IMAGE)
    podman.load(oci.write_archive(base / "image.tar", image.layout))
    create_repository(world, REPOSITORY)
    services = EcrServices(registry, podman, image.layout, password)
    config._assumer_ecr_services = services  # type: ignore[attr-defined]
    return services


@pytest.fixture
def ecr(request: pytest.FixtureRequest) -> EcrServices:
    """The session's registry, podman service and loaded image (started on first use)."""
    return _start(request)


@pytest.fixture
def ecr_home(aws_home: AwsHome, ecr: EcrServices) -> AwsHome:
    """``aws_home`` whose docker and podman reach the test engine (Docker config: ~/.docker)."""
    aws_home.env.update(ecr.podman.env())
    return aws_home


class ArgvWatch:
    """Reads every process's argv (``/proc/*/cmdline``) in a loop, looking for secrets."""

    def __init__(self, secrets: Callable[[], list[str]]) -> None:
        self._secrets = secrets
        self._stop = threading.Event()
        self.hits: list[str] = []
        self.scans = 0
        self.seen: set[str] = set()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            needles = [s for s in self._secrets() if s]
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                        argv = handle.read().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if argv:
                    self.seen.add(argv.split(" ", 1)[0].rsplit("/", 1)[-1])
                self.hits.extend(f"{entry.name}: {argv[:80]}..." for s in needles if s in argv)
            self.scans += 1

    def __enter__(self) -> "ArgvWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@pytest.fixture
def argv_watch() -> Iterator[Callable[[Callable[[], list[str]]], ArgvWatch]]:
    """``with argv_watch(lambda: [secrets]) as watch: ...``; then ``watch.hits`` must be empty."""
    yield ArgvWatch


def secret_files(secret: str, *roots: Path, since: float) -> list[Path]:
    """Files under ``roots`` holding ``secret`` that were written at or after ``since`` (epoch seconds).

    /tmp is shared with whatever else runs on the machine (other test runs, their
    logs); what a command under test wrote is what changed while it ran.
    """
    from tests.conftest import files_containing

    found = []
    for path in files_containing(secret, *roots):
        try:
            if path.stat().st_mtime >= since - 1:  # file systems keep coarse times
                found.append(path)
        except OSError:
            continue
    return found


DIGEST = re.compile(r"^(?P<ref>\S+):(?P<tag>[^:@/]+)@(?P<digest>sha256:[0-9a-f]{64})\n$")

"""What the ECR integration tests share: the registry, engine and image they push, and an argv watch.

The ``ecr`` and ``ecr_home`` fixtures (tests/integration/conftest.py) start
``EcrServices`` once per session; ``tests.tools.engine``'s ``main`` creates the same
repository for tests/try-it-ecr.sh and the benchmark.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.tools import oci
from tests.tools.engine import PodmanService
from tests.tools.moto_server import REGION, Keys, World
from tests.tools.registry import Registry, moto_password

IMAGE = "localhost/app:latest"
# The test registry on 127.0.0.1 is not ECR: the suite opts in to sending it the token, as a user would.
ALLOW = "--allow-non-ecr-registry"
REPOSITORY = "app"
# What ecr-push prints: HOST/REPOSITORY:TAG@sha256:DIGEST and a newline.
DIGEST = re.compile(r"^(?P<ref>\S+):(?P<tag>[^:@/]+)@(?P<digest>sha256:[0-9a-f]{64})\n$")


def admin_client(world: World, service: str):  # type: ignore[no-untyped-def]
    """A boto3 client for moto as ADMIN (``*`` on ``*``), for set-up after IAM enforcement is on."""
    import boto3

    return boto3.client(service, endpoint_url=world.endpoint, region_name=REGION,
                        aws_access_key_id=world.admin.access_key_id,
                        aws_secret_access_key=world.admin.secret_access_key)


def create_repository(world: World, name: str) -> None:
    """Create an ECR repository in moto (as ADMIN), so a push's existence check passes."""
    client = admin_client(world, "ecr")
    try:
        client.create_repository(repositoryName=name)
    except client.exceptions.RepositoryAlreadyExistsException:
        pass


def partition_user(world: World, region: str) -> Keys:
    """Keys of a user in ``region``'s partition, allowed GetSessionToken and GetAuthorizationToken.

    moto keeps one IAM per partition and checks a request's keys in the partition of
    the region it was signed for, so U's keys are unknown in cn, gov, iso or eusc. The
    user is created with enforcement paused (only while these few calls run) and made
    again on every call (a new key each time).
    """
    import json as json_
    import time
    import urllib.request

    import boto3

    def set_free_requests(count: int) -> None:  # moto's reset-auth: how many requests skip authentication
        request = urllib.request.Request(f"{world.endpoint}/moto-api/reset-auth", data=str(count).encode(),
                                         method="POST", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    iam = boto3.client("iam", endpoint_url=world.endpoint, region_name=region, aws_access_key_id="AKIAPARTITIONSETUP",
                       aws_secret_access_key="setup")
    name = f"P{time.monotonic_ns()}"
    document = json_.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sts:GetSessionToken", "ecr:GetAuthorizationToken"], "Resource": "*"}]})
    set_free_requests(100)
    try:
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="ecr-login", PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
    finally:
        set_free_requests(0)  # enforcement on again, as tests.tools.moto_server.enforce_iam leaves it
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


@dataclass
class EcrServices:
    """The registry, the engine and the image every ECR test uses."""

    registry: Registry
    podman: PodmanService
    layout: Path
    password: str = field(repr=False)  # pytest prints fixtures in failure reports, which end up in logs
    image: str = IMAGE

    @classmethod
    def start(cls, base: Path, world: World) -> EcrServices:
        """The TLS registry holding moto's ECR password, podman with the test image loaded, repository ``app``.

        The registry's CA is removed from certs.d again by ``stop`` (or here, if the start fails).
        """
        password = moto_password(world.account)
        registry = Registry(base / "registry", password=password)
        podman = PodmanService(base / "podman")
        try:
            registry.start()
            podman.start()
            image = oci.write_layout(base / "image", name=IMAGE)
            podman.load(oci.write_archive(base / "image.tar", image.layout))
            create_repository(world, REPOSITORY)
        except BaseException:
            podman.stop()
            registry.stop()
            raise
        return cls(registry, podman, image.layout, password)

    def stop(self) -> None:
        try:
            self.registry.stop()
        finally:
            self.podman.stop()


class ArgvWatch:
    """Reads every process's argv (``/proc/*/cmdline``) in a loop, looking for secrets.

    ``with ArgvWatch(lambda: [secrets]) as watch: ...``; then ``watch.hits`` must be empty
    (and ``watch.scans`` above 0, ``watch.seen`` naming the programs it saw run).
    """

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

    def __enter__(self) -> ArgvWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

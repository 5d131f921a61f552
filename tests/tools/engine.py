"""The container engine for the ECR tests: podman as a Docker-compatible service.

``podman system service`` listens on a private unix socket, with its own storage
(vfs: no overlay or fuse needed) under a temp directory. The real ``docker`` CLI
talks to it through ``DOCKER_HOST``; the ``podman`` CLI uses the same storage
through ``CONTAINERS_STORAGE_CONF``. Images are loaded from a tar the test wrote
(no network).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.tools.processes import terminate


class PodmanService:
    """``podman system service --time=0 unix://SOCKET`` with private storage."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = directory / "root"
        # podman refuses a runroot longer than 50 characters, and a unix socket path is
        # limited too: both live in a short private directory of their own.
        self.short = Path(tempfile.mkdtemp(prefix="apod-", dir="/tmp"))
        self.runroot = self.short / "run"
        self.socket = self.short / "podman.sock"
        self.storage_conf = directory / "storage.conf"
        self._process: subprocess.Popen | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        """What a process needs to reach this engine: docker through the socket, podman through the storage."""
        return {"DOCKER_HOST": self.docker_host, "CONTAINERS_STORAGE_CONF": str(self.storage_conf)}

    def start(self) -> PodmanService:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.storage_conf.write_text(
            f'[storage]\ndriver = "vfs"\ngraphroot = "{self.root}"\nrunroot = "{self.runroot}"\n')
        env = {**os.environ, "CONTAINERS_STORAGE_CONF": str(self.storage_conf)}
        with open(self.directory / "podman.log", "ab") as log:  # the child keeps its own copy
            self._process = subprocess.Popen(
                ["podman", "--root", str(self.root), "--runroot", str(self.runroot), "--storage-driver", "vfs",
                 "system", "service", "--time=0", self.docker_host],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"podman service exited: {(self.directory / 'podman.log').read_text()[-2000:]}")
            if self.socket.exists() and self.docker(["version", "--format", "{{.Server.Version}}"],
                                                    check=False).returncode == 0:
                return self
            time.sleep(0.2)
        raise TimeoutError("podman service did not answer")

    def stop(self) -> None:
        terminate(self._process, timeout=15)
        shutil.rmtree(self.short, ignore_errors=True)

    def docker(self, args: list[str], *, check: bool = True, env: dict[str, str] | None = None,
               **kwargs) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this service (a throw-away DOCKER_CONFIG unless ``env`` says otherwise)."""
        base = {**os.environ, **self.env()}
        base.setdefault("DOCKER_CONFIG", str(self.directory / "docker-config"))
        return subprocess.run([docker_path(), *args], env={**base, **(env or {})}, capture_output=True,
                              text=True, check=check, timeout=120, stdin=subprocess.DEVNULL, **kwargs)

    def load(self, archive: Path) -> str:
        """``docker load -i ARCHIVE``; returns what it said (``Loaded image: NAME``)."""
        return self.docker(["load", "-i", str(archive)]).stdout.strip()

    def remove_image(self, name: str) -> None:
        self.docker(["rmi", "-f", name], check=False)


def docker_path() -> str:
    return shutil.which("docker") or "docker"


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.tools.engine --world FILE --dir DIR --ready FILE``: the ECR stack for try-it.

    Starts the TLS registry (moto's ECR password in its htpasswd) and the podman
    service, loads the test image ``localhost/app:latest``, creates repository
    ``app`` in moto, writes {"registry", "docker_host", "storage_conf", "ca"} as
    JSON to the ready file, and serves until SIGTERM/SIGINT, then stops everything.
    """
    import argparse
    import json
    import signal
    import sys

    from tests.tools import oci
    from tests.tools.moto_server import World
    from tests.tools.registry import Registry, moto_password

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, required=True, help="the JSON written by tests.tools.moto_server")
    parser.add_argument("--dir", type=Path, required=True, help="scratch directory (left for the caller to remove)")
    parser.add_argument("--ready", type=Path, required=True, help="file to write the endpoints to, when ready")
    args = parser.parse_args(argv)
    world = World.from_json(args.world.read_text())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    registry = Registry(args.dir / "registry", password=moto_password(world.account))
    podman = PodmanService(args.dir / "podman")
    try:
        registry.start()
        podman.start()
        image = oci.write_layout(args.dir / "image", name="localhost/app:latest")
        podman.load(oci.write_archive(args.dir / "image.tar", image.layout))
        from tests.tools.ecr import create_repository

        create_repository(world, "app")
        args.ready.write_text(json.dumps({"registry": registry.host, "docker_host": podman.docker_host,
                                          "storage_conf": str(podman.storage_conf), "ca": str(registry.cert)}))
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        podman.stop()
        registry.stop()


if __name__ == "__main__":
    main()

"""A real registry for the ECR tests: Debian's ``docker-registry`` (distribution 2.8).

It listens on 127.0.0.1 with TLS (a self-signed certificate for IP 127.0.0.1) and
htpasswd auth whose only entry is ``AWS`` with the bcrypt hash of moto's ECR
password (``<account>-auth-token``): the password assumer obtains from moto is
exactly what this registry checks. Its CA goes to
``/etc/containers/certs.d/127.0.0.1:PORT/ca.crt`` for podman and skopeo (as root;
``~/.config/containers/certs.d`` otherwise), removed on stop.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from tests.tools.net import free_port
from tests.tools.processes import terminate


def certs_d() -> Path:
    """Where podman and skopeo look for a registry's CA: the system's as root, else the user's."""
    if os.geteuid() == 0:
        return Path("/etc/containers/certs.d")
    return Path(os.path.expanduser("~")) / ".config" / "containers" / "certs.d"

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])


def moto_password(account: str) -> str:
    """The password inside moto's ECR token: base64("AWS:<account>-auth-token")."""
    return f"{account}-auth-token"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for IP:127.0.0.1 (openssl CLI), valid two days."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def htpasswd_line(user: str, password: str) -> str:
    """``user:<bcrypt>`` from apache2-utils' htpasswd (the password on stdin, not argv)."""
    result = subprocess.run(["htpasswd", "-niB", user], input=password + "\n", capture_output=True, text=True,
                            check=True)
    return result.stdout.strip() + "\n"


class Registry:
    """``docker-registry serve`` on a free loopback port, TLS and htpasswd auth."""

    def __init__(self, directory: Path, *, password: str, user: str = "AWS", tls: bool = True) -> None:
        self.directory = directory
        self.user = user
        self.password = password
        self.tls = tls
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None
        self.certs_d = certs_d() / self.host
        self.cert: Path | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def start(self) -> Registry:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "htpasswd").write_text(htpasswd_line(self.user, self.password))
        tls = ""
        if self.tls:
            self.cert, key = make_certificate(self.directory)
            tls = f"  tls:\n    certificate: {self.cert}\n    key: {key}\n"
        (self.directory / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.directory / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n{tls}"
            f"auth:\n  htpasswd:\n    realm: assumer-tests\n    path: {self.directory / 'htpasswd'}\n"
        )
        with open(self.directory / "registry.log", "ab") as log:  # the child keeps its own copy
            self._process = subprocess.Popen(["docker-registry", "serve", str(self.directory / "config.yml")],
                                             stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        if self.tls and self.cert is not None:
            self.certs_d.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.cert, self.certs_d / "ca.crt")
        self._wait()
        return self

    def _wait(self) -> None:
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.directory / 'registry.log').read_text()[-2000:]}")
            try:
                self.get("/v2/")
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("docker-registry did not answer")

    def stop(self) -> None:
        terminate(self._process)
        shutil.rmtree(self.certs_d, ignore_errors=True)

    # -- the registry API, as the test's proof of what arrived --------------------

    def _context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.cert))

    def get(self, path: str, *, method: str = "GET", accept: str | None = None,
            auth: bool = True) -> tuple[int, dict[str, str], bytes]:
        headers = {}
        if auth:
            pair = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(self.url + path, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=10, context=self._context()) as response:
            return response.status, dict(response.headers), response.read()

    def tags(self, repository: str) -> list[str]:
        """``/v2/<repo>/tags/list`` (empty when the repository does not exist)."""
        try:
            _, _, body = self.get(f"/v2/{repository}/tags/list")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise
        return json.loads(body).get("tags") or []

    def manifest_digest(self, repository: str, reference: str) -> str:
        """The ``Docker-Content-Digest`` the registry reports for a tag."""
        _, headers, _ = self.get(f"/v2/{repository}/manifests/{reference}", method="HEAD", accept=MANIFEST_TYPES)
        lowered = {k.lower(): v for k, v in headers.items()}
        return lowered["docker-content-digest"]

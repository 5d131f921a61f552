"""Fixtures for the whole suite.

Unit tests (tests/unit) need nothing from here. Integration tests (tests/integration,
marked ``integration`` automatically) run against real services started once per
session: a moto server with IAM enforcement (``moto``, ``world``), the recording proxy
in front of it (``proxy``), and the Secret Service that tests/run.sh provides (a dbus
session with an unlocked gnome-keyring). Per test they get a fresh HOME with the AWS
config of DESIGN.md (``aws_home``), a reset proxy and a keyring without assumer entries.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so that ``tests.tools`` imports whatever the import mode
    sys.path.insert(0, str(ROOT))

from tests.tools.moto_server import REGION, MotoServer, World, enforce_iam, populate  # noqa: E402
from tests.tools.recording_proxy import RecordingProxy  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SERVICES = ("assumer", "assumer-keys")  # keyring services the package writes
RUN_SH = "bash tests/run.sh"


# -- markers and the services check --------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test."""
    integration_dir = ROOT / "tests" / "integration"
    for item in items:
        if integration_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


def secret_service_problem() -> str | None:
    """Why the Secret Service cannot be used, or None when it can."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "there is no dbus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
    try:
        import secretstorage

        connection = secretstorage.dbus_init()
        try:
            if secretstorage.get_default_collection(connection).is_locked():
                return "the Secret Service's default collection is locked"
        finally:
            connection.close()
    except Exception as exc:  # any failure here means the same thing to the user
        return f"no usable Secret Service on the session bus ({type(exc).__name__}: {exc})"
    return None


@pytest.fixture(scope="session")
def _services_problem() -> str | None:
    return secret_service_problem()


@pytest.fixture(autouse=True)
def _integration_guard(request: pytest.FixtureRequest) -> None:
    """Fail (never skip) an integration test run outside tests/run.sh; reset shared state."""
    if request.node.get_closest_marker("integration") is None:
        return
    problem = request.getfixturevalue("_services_problem")
    if problem:
        pytest.fail(f"{problem}. Integration tests need the services that `{RUN_SH}` "
                    f"starts: run the suite with `{RUN_SH} [pytest args]`.", pytrace=False)
    wipe_keyring()
    request.getfixturevalue("proxy").reset()


# -- the keyring ------------------------------------------------------------------------


def keyring_items(service: str) -> list[dict[str, str]]:
    """The attributes of every Secret Service item stored under ``service``."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        return [item.get_attributes()
                for item in secretstorage.search_items(connection, {"service": service})]
    finally:
        connection.close()


def keyring_secret(service: str, username: str) -> bytes | None:
    """The secret of one item, as the keyring library stored it."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        for item in secretstorage.search_items(connection, {"service": service,
                                                            "username": username}):
            return item.get_secret()
        return None
    finally:
        connection.close()


def wipe_keyring(services: Iterable[str] = SERVICES) -> None:
    """Delete every item of assumer's services; keyring itself cannot list them."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        for service in services:
            for item in secretstorage.search_items(connection, {"service": service}):
                item.delete()
    finally:
        connection.close()


# -- secrets on disk --------------------------------------------------------------------

MAX_SCANNED_FILE = 16 * 1024 * 1024  # big blobs are image layers and venvs, not sessions


def keyring_store_dirs() -> list[Path]:
    """Where the test keyring daemon keeps its own (encrypted) files; left out of scans."""
    home = os.environ.get("TESTS_KEYRING_HOME")
    return [Path(home) / ".local" / "share" / "keyrings"] if home else []


def files_containing(secret: str, *roots: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Every regular file under ``roots`` whose bytes contain ``secret``."""
    return files_with_secrets({secret}, *roots, exclude=exclude).get(secret, [])


def files_with_secrets(secrets: Iterable[str], *roots: Path,
                       exclude: Iterable[Path] = ()) -> dict[str, list[Path]]:
    """For each of ``secrets`` found, the regular files under ``roots`` that contain it.

    One pass for many secrets, since a walk of /tmp is the slow part. Symlinks are not
    followed and unreadable or vanishing files are passed over: the scan runs while
    other processes create and delete files in /tmp.
    """
    wanted = {secret.encode(): secret for secret in secrets}
    excluded = {Path(p).resolve() for p in [*exclude, *keyring_store_dirs()]}
    found: dict[str, list[Path]] = {}
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            here = Path(directory)
            subdirs[:] = [d for d in subdirs if (here / d).resolve() not in excluded]
            for name in files:
                path = here / name
                try:
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SCANNED_FILE:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                for raw, secret in wanted.items():
                    if raw in data:
                        found.setdefault(secret, []).append(path)
    return found


# -- services ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto on a free loopback port, populated (see tests/tools/moto_server.py), enforcing IAM.

    ``moto.world`` holds the keys and ARNs that were created.
    """
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = MotoServer(log=log).start()
    try:
        server.world = populate(server.url)
        enforce_iam(server.url)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def world(moto: MotoServer) -> World:
    return moto.world


@pytest.fixture(scope="session")
def proxy(moto: MotoServer) -> Iterator[RecordingProxy]:
    """The recording proxy in front of moto, in a thread of this process (reset per test)."""
    server = RecordingProxy(moto.url).start()
    try:
        yield server
    finally:
        server.stop()


# -- a user's HOME ----------------------------------------------------------------------


def base_config(world: World) -> str:
    """DESIGN.md's ~/.aws/config, plus r2 chained from r."""
    return (f"[profile u]\nregion = {REGION}\n\n"
            f"[profile r]\nrole_arn = {world.role_r}\nsource_profile = u\nregion = {REGION}\n\n"
            f"[profile r2]\nrole_arn = {world.role_r2}\nsource_profile = r\nregion = {REGION}\n")


def base_credentials(world: World) -> str:
    return (f"[u]\naws_access_key_id = {world.u.access_key_id}\n"
            f"aws_secret_access_key = {world.u.secret_access_key}\n")


def clean_environ() -> dict[str, str]:
    """This process's environment without anything AWS or assumer would read."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "ASSUMER_")) and not k.startswith("XDG_")}


@dataclass
class AwsHome:
    """A user's HOME for one test, and a way to run ``assumer`` and shells in it."""

    home: Path
    env: dict[str, str]
    world: World
    proxy: RecordingProxy
    config_file: Path = field(init=False)
    credentials_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config_file = self.home / ".aws" / "config"
        self.credentials_file = self.home / ".aws" / "credentials"

    @property
    def assumer(self) -> str:
        """The console script installed in the venv."""
        found = shutil.which("assumer", path=self.env["PATH"])
        return found or str(VENV_BIN / "assumer")

    def write_config(self, text: str) -> None:
        """Replace ~/.aws/config."""
        self.config_file.write_text(text)

    def add_config(self, text: str) -> None:
        """Append profiles to ~/.aws/config."""
        with self.config_file.open("a") as out:
            out.write("\n" + text)

    def add_credentials(self, text: str) -> None:
        with self.credentials_file.open("a") as out:
            out.write("\n" + text)

    def process_env(self, env_extra: dict[str, str | None] | None = None) -> dict[str, str]:
        """``env`` with ``env_extra`` applied; a None value removes the variable."""
        env = dict(self.env)
        for name, value in (env_extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, args: Sequence[str], input: str | None = None,
            env_extra: dict[str, str | None] | None = None, timeout: float = 60,
            **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``assumer ARGS`` as a user would, without a terminal (see ``command``)."""
        return self.command([self.assumer, *args], input=input, env_extra=env_extra,
                            timeout=timeout, **kwargs)

    def command(self, argv: Sequence[str], input: str | None = None,
                env_extra: dict[str, str | None] | None = None, timeout: float = 60,
                **kwargs) -> subprocess.CompletedProcess[str]:
        """Run any command in this HOME; text output, stdout and stderr apart.

        A new session means no controlling terminal, so /dev/tty cannot be opened and an
        MFA prompt can never wait for a person at the terminal that runs the suite.
        """
        kwargs.setdefault("start_new_session", True)
        return subprocess.run(list(argv), input=input, env=self.process_env(env_extra),
                              cwd=self.home, capture_output=True, text=True, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL, **kwargs)

    def shell(self, shell: str, script: str, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with ``shell -c`` (bash, zsh, fish, sh), $SHELL set to that shell."""
        path = shutil.which(shell) or shell
        env_extra = {"SHELL": path, **kwargs.pop("env_extra", {})}
        return self.command([path, "-c", script], env_extra=env_extra, **kwargs)


@pytest.fixture
def aws_home(tmp_path: Path, world: World, proxy: RecordingProxy) -> Iterator[AwsHome]:
    """A fresh HOME holding DESIGN.md's ~/.aws setup, the endpoint pointing at the proxy.

    The HOME goes when the test ends: it holds U's long-term keys, and later tests
    assert that no secret is left anywhere under /tmp.
    """
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = clean_environ()
    env.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_ENDPOINT_URL=proxy.url,
        # Never let botocore look for instance metadata: that is a non-loopback address.
        AWS_EC2_METADATA_DISABLED="true",
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_RUNTIME_DIR=str(runtime),
        PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath)]),
        SHELL="/bin/bash",
    )
    result = AwsHome(home=home, env=env, world=world, proxy=proxy)
    result.write_config(base_config(world))
    result.credentials_file.write_text(base_credentials(world))
    yield result
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture
def secret_scan():
    """``files_containing`` as a fixture, for "no secret on disk" assertions."""
    return files_containing

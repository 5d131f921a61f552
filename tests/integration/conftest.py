"""Fixtures of the integration tests: the real services, a user's HOME, the ECR set-up.

They run against real services started once per session: a moto server with IAM
enforcement (``moto``, ``world``), the recording proxy in front of it (``proxy``), the
registry, podman and the test image (``ecr``, started by the first test that asks),
and the Secret Service that tests/run.sh provides (a dbus session with an unlocked
gnome-keyring). Per test they get a fresh HOME with the README's AWS config
(``aws_home``, ``ecr_home``), a reset proxy and a keyring without assumer entries.
The helpers these build on are in tests/tools/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.ecr import ArgvWatch, EcrServices
from tests.tools.moto_server import MotoServer, World, enforce_iam, populate
from tests.tools.recording_proxy import RecordingProxy
from tests.tools.secret_service import secret_service_problem, wipe_keyring

RUN_SH = "bash tests/run.sh"


@pytest.fixture(scope="session")
def _services_problem() -> str | None:
    return secret_service_problem()


@pytest.fixture(autouse=True)
def _integration_guard(request: pytest.FixtureRequest, _services_problem: str | None) -> None:
    """Fail (never skip) an integration test run outside tests/run.sh; reset shared state.

    The keyring loses assumer's entries before every test; the proxy is reset before
    every test that uses it (a test that does not start it need not start moto).
    """
    if _services_problem:
        pytest.fail(f"{_services_problem}. Integration tests need the services that `{RUN_SH}` "
                    f"starts: run the suite with `{RUN_SH} [pytest args]`.", pytrace=False)
    wipe_keyring()
    if "proxy" in request.fixturenames:
        request.getfixturevalue("proxy").reset()


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
    for keys in (moto.world.u, moto.world.u_second):  # U's MFA sessions: moto's own are unusable
        server.issue_mfa_sessions(keys.access_key_id, keys.secret_access_key)
    try:
        yield server
    finally:
        server.stop()


# -- a user's HOME ----------------------------------------------------------------------


@pytest.fixture
def aws_home(tmp_path: Path, world: World, proxy: RecordingProxy) -> Iterator[AwsHome]:
    """A fresh HOME holding the README's ~/.aws setup, the endpoint pointing at the proxy.

    The HOME goes when the test ends: it holds U's long-term keys, and later tests
    assert that no secret is left anywhere under /tmp.
    """
    home, runtime = tmp_path / "home", tmp_path / "run"
    yield AwsHome.create(home, runtime, world, proxy)
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(runtime, ignore_errors=True)


# -- ECR ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def ecr(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EcrServices]:
    """The session's registry, podman service and loaded image (started on first use).

    When they stop, the registry's CA is removed from certs.d again.
    """
    services = EcrServices.start(tmp_path_factory.mktemp("ecr"), world)
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture
def ecr_home(aws_home: AwsHome, ecr: EcrServices) -> AwsHome:
    """``aws_home`` whose docker and podman reach the test engine (Docker config: ~/.docker)."""
    aws_home.env.update(ecr.podman.env())
    return aws_home


@pytest.fixture
def argv_watch() -> type[ArgvWatch]:
    """``with argv_watch(lambda: [secrets]) as watch: ...``; then ``watch.hits`` must be empty."""
    return ArgvWatch

"""ecr-login and ecr-push as a user runs them: the real docker CLI driving podman, a real
TLS registry whose htpasswd holds moto's ECR password, moto behind the recording proxy,
and the Secret Service of tests/run.sh.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.ecr import ALLOW, DIGEST, EcrServices
from tests.tools.secret_service import keyring_items
from tests.tools.secrets_scan import files_containing, files_written_since

TWELVE_HOURS = 12 * 3600


def push(home: AwsHome, ecr: EcrServices, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return home.run(["ecr-push", "r", ecr.image, "--registry", ecr.registry.host, ALLOW, *args], **kwargs)


def pushed_digest(result: subprocess.CompletedProcess[str], ecr: EcrServices, tag: str) -> str:
    """Check stdout is exactly HOST/app:TAG@sha256:... and return the digest."""
    assert result.returncode == 0, result.stderr
    match = DIGEST.match(result.stdout)
    assert match, repr(result.stdout)
    assert match["ref"] == f"{ecr.registry.host}/app" and match["tag"] == tag
    return match["digest"]


def leftovers(home: AwsHome) -> list[str]:
    """Temporary push configs left in XDG_RUNTIME_DIR or /tmp."""
    places = [Path(home.env["XDG_RUNTIME_DIR"]), Path("/tmp")]
    return [str(p) for place in places for p in place.glob("assumer-push-*")]


# -- ecr-login ---------------------------------------------------------------------------


def test_print_password_prints_only_the_password(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = ecr_home.run(["ecr-login", "r", "--print-password"])
    assert (result.returncode, result.stdout) == (0, ecr.password + "\n"), result.stderr
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1
    assert ecr_home.proxy.count("AssumeRole") == 1


def test_login_with_docker_then_push_with_the_engine_alone(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = ecr_home.run(["ecr-login", "r", "--registry", ecr.registry.host, ALLOW, "--engine", "docker"])
    assert result.returncode == 0, result.stderr
    assert f"logged docker in to {ecr.registry.host}" in result.stderr
    assert result.stdout == ""
    # docker itself keeps the login (the user asked for a login): a plain docker push now works.
    ref = f"{ecr.registry.host}/app:login-docker"
    engine = ecr_home.command(["docker", "tag", ecr.image, ref])
    assert engine.returncode == 0, engine.stderr
    engine = ecr_home.command(["docker", "push", ref])
    assert engine.returncode == 0, engine.stderr
    assert "login-docker" in ecr.registry.tags("app")


def test_login_with_podman(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = ecr_home.run(["ecr-login", "r", "--registry", ecr.registry.host, ALLOW, "--engine", "podman"])
    assert result.returncode == 0, result.stderr
    assert f"logged podman in to {ecr.registry.host}" in result.stderr


def test_login_refused_by_the_registry_is_exit_7_with_the_engines_words(
        ecr_home: AwsHome, ecr: EcrServices, tmp_path: Path) -> None:
    from tests.tools.registry import Registry

    other = Registry(tmp_path / "other", password="not-the-moto-password").start()
    try:
        result = ecr_home.run(["ecr-login", "r", "--registry", other.host, ALLOW, "--engine", "docker"])
    finally:
        other.stop()
    assert result.returncode == 7, result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"assumer: error: docker login to {other.host} failed:")
    assert "401" in result.stderr or "unauthorized" in result.stderr.lower()


def test_role_without_get_authorization_token_is_denied_exit_4(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """R2 has no ECR permission: moto denies (403) and the message names the missing action."""
    result = ecr_home.run(["ecr-login", "r2", "--registry", ecr.registry.host, ALLOW])
    assert result.returncode == 4, result.stderr
    assert "ecr:GetAuthorizationToken" in result.stderr
    warning, error = result.stderr.strip().splitlines()  # the opt-in's warning, then one error line
    assert "is not an ECR registry" in warning and error.startswith("assumer: error: ")


def test_no_engine_on_path_is_exit_7(ecr_home: AwsHome, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = ecr_home.run(["ecr-login", "r"], env_extra={"PATH": str(empty)})
    assert result.returncode == 7
    assert "no container engine found" in result.stderr
    assert ecr_home.proxy.count("AssumeRole") == 0  # fails before any AWS call


def test_engine_daemon_down_is_exit_7_with_the_engines_words(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = push(ecr_home, ecr, "--tag", "down", env_extra={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 7, result.stderr
    assert "Cannot connect to the Docker daemon" in result.stderr
    assert leftovers(ecr_home) == []


# -- ecr-push ----------------------------------------------------------------------------


def test_push_prints_the_reference_the_registry_holds_and_writes_no_password(
        ecr_home: AwsHome, ecr: EcrServices, argv_watch) -> None:
    docker_dir = ecr_home.home / ".docker"
    docker_dir.mkdir()
    user_config = {"auths": {"other.example:5000": {"auth": "dXNlcjpwYXNz"}},
                   "proxies": {"default": {"noProxy": "127.0.0.1"}}, "psFormat": "{{.ID}}"}
    (docker_dir / "config.json").write_text(json.dumps(user_config))

    def secrets() -> list[str]:
        return [ecr.password]

    wall = time.time()
    with argv_watch(secrets) as watch:
        started = time.monotonic()
        result = push(ecr_home, ecr, "--tag", "v1")
        elapsed = time.monotonic() - started
    digest = pushed_digest(result, ecr, "v1")
    assert "v1" in ecr.registry.tags("app")
    assert ecr.registry.manifest_digest("app", "v1") == digest
    # The user's Docker config is untouched; nothing is left behind; no password anywhere.
    assert json.loads((docker_dir / "config.json").read_text()) == user_config
    assert leftovers(ecr_home) == []
    assert files_containing(ecr.password, ecr_home.home) == []
    assert files_written_since(ecr.password, Path("/tmp"), since=wall) == []
    assert watch.scans > 0 and watch.hits == [], watch.hits
    assert "docker" in watch.seen  # the watch did see the engine run
    # Progress and messages on stderr only.
    assert f"pushing {ecr.image} to {ecr.registry.host}/app:v1" in result.stderr
    assert result.stderr.count(f"{ecr.registry.host} is not an ECR registry") == 1  # the opt-in's warning, once
    print(f"ecr-push took {elapsed:.2f}s")


def test_push_never_puts_session_secrets_on_argv(ecr_home: AwsHome, ecr: EcrServices, argv_watch) -> None:
    session = json.loads(ecr_home.run(["env", "r", "--shell", "json"]).stdout)
    secrets = [session["AWS_SECRET_ACCESS_KEY"], session["AWS_SESSION_TOKEN"], ecr.password,
               ecr_home.world.u.secret_access_key]
    with argv_watch(lambda: secrets) as watch:
        result = push(ecr_home, ecr, "--tag", "argv")
    pushed_digest(result, ecr, "argv")
    assert watch.hits == [], watch.hits


def test_cached_token_serves_the_helper_and_the_next_push(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """With a real expiry the token is cached: one GetAuthorizationToken for two pushes.

    The warm push makes no AWS call at all: session and token come from the keyring.
    """
    ecr_home.proxy.set_ecr_expiry(TWELVE_HOURS)
    first = push(ecr_home, ecr, "--tag", "c1")
    pushed_digest(first, ecr, "c1")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1  # the helper read the keyring
    before = len(ecr_home.proxy.requests())
    second = push(ecr_home, ecr, "--tag", "c2")
    pushed_digest(second, ecr, "c2")
    assert len(ecr_home.proxy.requests()) == before
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1
    assert ecr_home.proxy.count("AssumeRole") == 1
    # `assumer clear` removes the token with the session.
    assert ecr_home.run(["clear", "r"]).returncode == 0
    assert keyring_items("assumer") == []


def test_token_stale_on_arrival_is_used_but_not_cached(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """moto's token expired in 2015: it is handed to the engine, never stored."""
    result = push(ecr_home, ecr, "--tag", "stale")
    pushed_digest(result, ecr, "stale")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1
    stored = keyring_items("assumer")
    assert len(stored) == 1  # the session only


def test_push_with_no_cache_leaves_the_keyring_empty(ecr_home: AwsHome, ecr: EcrServices) -> None:
    ecr_home.proxy.set_ecr_expiry(TWELVE_HOURS)
    result = push(ecr_home, ecr, "--tag", "nocache", "--no-cache")
    pushed_digest(result, ecr, "nocache")
    assert keyring_items("assumer") == []


def test_push_with_podman(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = push(ecr_home, ecr, "--tag", "podman", "--engine", "podman")
    digest = pushed_digest(result, ecr, "podman")
    assert ecr.registry.manifest_digest("app", "podman") == digest
    assert leftovers(ecr_home) == []


def test_push_keeps_the_users_context_and_plugins(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """The push reaches the engine the user's current context names, not DOCKER_HOST's default."""
    docker_dir = ecr_home.home / ".docker"
    env = {**ecr_home.env, "DOCKER_CONFIG": str(docker_dir)}
    made = subprocess.run(["docker", "context", "create", "podtest", "--docker", f"host={ecr.podman.docker_host}"],
                          env=env, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    config = json.loads((docker_dir / "config.json").read_text()) if (docker_dir / "config.json").exists() else {}
    config["currentContext"] = "podtest"
    (docker_dir / "config.json").write_text(json.dumps(config))
    # Only the context knows where the engine is.
    result = push(ecr_home, ecr, "--tag", "context", env_extra={"DOCKER_HOST": None})
    pushed_digest(result, ecr, "context")
    assert json.loads((docker_dir / "config.json").read_text()) == config


@pytest.fixture
def refusing_registry(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A second TLS registry that refuses moto's password (every push is refused)."""
    from tests.tools.registry import Registry

    other = Registry(tmp_path / "refusing", password="not-the-moto-password").start()
    try:
        yield other
    finally:
        other.stop()


def test_refused_push_to_a_missing_repository_says_so_exit_7(ecr_home: AwsHome, ecr: EcrServices,
                                                             refusing_registry) -> None:
    """The registry refuses, and ECR's API says why: the repository does not exist."""
    result = ecr_home.run(["ecr-push", "r", ecr.image, "--registry", refusing_registry.host, ALLOW,
                           "--repository", "nothere", "--tag", "x"])
    assert result.returncode == 7, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"assumer: error: repository 'nothere' does not exist in {refusing_registry.host} (")
    assert "--create-repository" in last
    assert ecr_home.proxy.count("DescribeRepositories") == 1
    ecr.podman.remove_image(f"{refusing_registry.host}/nothere:x")


def test_refused_push_carries_the_engines_words_exit_7(ecr_home: AwsHome, ecr: EcrServices,
                                                       refusing_registry) -> None:
    result = ecr_home.run(["ecr-push", "r", ecr.image, "--registry", refusing_registry.host, ALLOW, "--tag", "x"])
    assert result.returncode == 7, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"assumer: error: docker push {refusing_registry.host}/app:x failed: ")
    assert "authentication required" in last or "unauthorized" in last.lower()
    assert leftovers(ecr_home) == []
    ecr.podman.remove_image(f"{refusing_registry.host}/app:x")


def test_create_repository_without_permission_is_exit_4(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """Role R (the policy 'assumer policy' prints) has no ecr:CreateRepository."""
    result = push(ecr_home, ecr, "--repository", "newrepo", "--tag", "x", "--create-repository")
    assert result.returncode == 4, result.stderr
    assert "ecr:CreateRepository" in result.stderr


def test_missing_local_image_is_exit_7(ecr_home: AwsHome, ecr: EcrServices) -> None:
    result = ecr_home.run(["ecr-push", "r", "localhost/nothing:here", "--registry", ecr.registry.host, ALLOW,
                           "--repository", "app"])
    assert result.returncode == 7, result.stderr
    assert "local image 'localhost/nothing:here' was not found" in result.stderr


def _silent_registry() -> socket.socket:
    """A listener that accepts and never answers: a push to it hangs until stopped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_push_stops_the_engine_and_removes_the_config(
        ecr_home: AwsHome, ecr: EcrServices, signum: int, status: int) -> None:
    listener = _silent_registry()
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    try:
        child = subprocess.Popen([ecr_home.assumer, "ecr-push", "r", ecr.image, "--registry", host, ALLOW,
                                  "--repository", "app", "--tag", "sig"],
                                 env=ecr_home.process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not leftovers(ecr_home) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert leftovers(ecr_home), child.communicate()
        time.sleep(0.5)  # the engine is running now
        engines = _children(child.pid)
        assert engines, "no engine child running"
        child.send_signal(signum)
        out, err = child.communicate(timeout=30)
    finally:
        listener.close()
    assert child.returncode == status, err
    assert out == ""
    assert "stopped by" in err
    assert leftovers(ecr_home) == []
    for pid in engines:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid), f"engine {pid} still running"
    ecr.podman.remove_image(f"{host}/app:sig")


def test_after_sigkill_the_next_push_removes_the_stale_config_and_spares_a_running_push(
        ecr_home: AwsHome, ecr: EcrServices) -> None:
    """SIGKILL leaves no chance to clean up: the next push removes what a dead push left, never a live one's."""
    listener = _silent_registry()
    host = f"127.0.0.1:{listener.getsockname()[1]}"

    def hanging_push(tag: str) -> subprocess.Popen[str]:
        child = subprocess.Popen([ecr_home.assumer, "ecr-push", "r", ecr.image, "--registry", host, ALLOW,
                                  "--repository", "app", "--tag", tag], env=ecr_home.process_env(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                                 start_new_session=True, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not pushes_of(child.pid) and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert pushes_of(child.pid), "the push made no private config"
        return child

    def pushes_of(pid: int) -> list[str]:
        return [p for p in leftovers(ecr_home) if Path(p).name.startswith(f"assumer-push-{pid}-")]

    running = None
    try:
        killed = hanging_push("killed")
        os.killpg(killed.pid, signal.SIGKILL)  # assumer and the engine it started
        killed.wait(timeout=30)
        assert leftovers(ecr_home) == pushes_of(killed.pid) != []  # left behind
        running = hanging_push("running")  # the next push removes it ...
        assert leftovers(ecr_home) == pushes_of(running.pid)
        result = push(ecr_home, ecr, "--tag", "after-kill")  # ... and a push beside a running one spares it
        pushed_digest(result, ecr, "after-kill")
        assert leftovers(ecr_home) == pushes_of(running.pid) != []
        running.send_signal(signal.SIGTERM)
        assert running.wait(timeout=30) == 143
        assert leftovers(ecr_home) == []
    finally:
        listener.close()
        if running is not None and running.poll() is None:
            os.killpg(running.pid, signal.SIGKILL)
    for tag in ("killed", "running"):
        ecr.podman.remove_image(f"{host}/app:{tag}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_debug_redacts_the_token_and_the_password(ecr_home: AwsHome, ecr: EcrServices) -> None:
    import base64

    result = ecr_home.run(["--debug", "ecr-push", "r", ecr.image, "--registry", ecr.registry.host, ALLOW,
                           "--tag", "debug"])
    assert result.returncode == 0, result.stderr
    assert "GetAuthorizationToken" in result.stderr  # botocore's own logs are there ...
    encoded = base64.b64encode(f"AWS:{ecr.password}".encode()).decode()
    for secret in (ecr.password, encoded):  # ... without the secret in either form
        assert secret not in result.stderr


PUSH_PROBE = """
import atexit, sys
def report():
    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'})
    sys.stderr.write('HEAVY:' + ','.join(heavy) + '\\n')
atexit.register(report)
sys.argv = ['assumer', *sys.argv[1:]]
from assumer.cli.entry import main
main()
"""


def test_warm_push_imports_no_sdk(ecr_home: AwsHome, ecr: EcrServices) -> None:
    import sys

    ecr_home.proxy.set_ecr_expiry(TWELVE_HOURS)
    args = ["ecr-push", "r", ecr.image, "--registry", ecr.registry.host, ALLOW, "--tag", "probe"]
    for expected in ("boto3,botocore", ""):
        result = ecr_home.command([sys.executable, "-c", PUSH_PROBE, *args])
        pushed_digest(result, ecr, "probe")
        assert [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY:")][-1] == f"HEAVY:{expected}"


@pytest.fixture
def plain_http_registry(tmp_path: Path, ecr: EcrServices):  # type: ignore[no-untyped-def]
    """The same registry set-up without TLS."""
    from tests.tools.registry import Registry

    plain = Registry(tmp_path / "plain", password=ecr.password, tls=False).start()
    try:
        yield plain
    finally:
        plain.stop()


def test_plain_http_registry_is_refused_by_the_engine_exit_7(ecr_home: AwsHome, ecr: EcrServices,
                                                             plain_http_registry) -> None:
    """podman insists on HTTPS (no insecure-registry set-up here): one line with its words, nothing left."""
    host = plain_http_registry.host
    login = ecr_home.run(["ecr-login", "r", "--registry", host, ALLOW, "--engine", "docker"])
    assert login.returncode == 7, login.stderr
    assert login.stderr.splitlines()[-1].startswith(f"assumer: error: docker login to {host} failed: ")
    result = ecr_home.run(["ecr-push", "r", ecr.image, "--registry", host, ALLOW, "--tag", "http"])
    assert result.returncode == 7, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"assumer: error: docker push {host}/app:http failed: ") and "HTTPS" in last
    assert result.stdout == "" and leftovers(ecr_home) == []
    ecr.podman.remove_image(f"{host}/app:http")

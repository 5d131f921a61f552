"""assumer.ecr.engine with stand-in engine programs (small scripts, run as real processes).

What needs no program (the private Docker config, signals during clean-up) is in
tests/unit/test_ecr_engine.py; the real docker CLI and podman are in test_ecr_push.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assumer.ecr import engine
from assumer.errors import EngineError

DIGEST = "sha256:" + "ab" * 32


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    return path


def test_find_engine_auto_prefers_docker_then_podman(bindir: Path) -> None:
    script(bindir, "podman", "echo 'podman version 4.3.1'\n")
    assert engine.find_engine("auto", environ={"PATH": str(bindir)}).name == "podman"
    script(bindir, "docker", "echo 'Docker version 28.2.2'\n")
    found = engine.find_engine("auto", environ={"PATH": str(bindir)})
    assert (found.name, found.flavour) == ("docker", "docker")


def test_podman_docker_shim_speaks_podman(bindir: Path) -> None:
    script(bindir, "docker", "echo 'podman version 4.3.1'\n")
    assert engine.find_engine("docker", environ={"PATH": str(bindir)}).flavour == "podman"


def test_login_sends_the_password_on_stdin_only(bindir: Path, tmp_path: Path) -> None:
    record = tmp_path / "record"
    fake = script(bindir, "docker", f'echo "$@" > {record}; cat >> {record}; echo "Login Succeeded"\n')
    runner = engine.Engine("docker", str(fake), "docker")
    assert engine.login(runner, "h:1", "AWS", "pw-123456", env=os.environ) == "Login Succeeded"
    args, password = record.read_text().splitlines()
    assert args == "login --username AWS --password-stdin h:1"
    assert password == "pw-123456"


def test_login_refused_carries_the_engines_words(bindir: Path) -> None:
    fake = script(bindir, "docker", "echo 'Error response from daemon: 401 Unauthorized' >&2; exit 1\n")
    with pytest.raises(EngineError, match="docker login to h:1 failed: Error response from daemon: 401"):
        engine.login(engine.Engine("docker", str(fake), "docker"), "h:1", "AWS", "pw", env=os.environ)


def test_daemon_down_gets_a_hint(bindir: Path) -> None:
    fake = script(bindir, "docker", "echo 'Cannot connect to the Docker daemon at unix:///x. "
                                    "Is the docker daemon running?' >&2; exit 1\n")
    with pytest.raises(EngineError) as caught:
        engine.tag(engine.Engine("docker", str(fake), "docker"), "a", "b", env=os.environ)
    assert "DOCKER_HOST" in str(caught.value)


def test_missing_local_image(bindir: Path) -> None:
    fake = script(bindir, "docker", "echo 'Error response from daemon: No such image: a:latest' >&2; exit 1\n")
    with pytest.raises(EngineError, match="the local image 'a' was not found"):
        engine.tag(engine.Engine("docker", str(fake), "docker"), "a", "b", env=os.environ)


def test_push_echoes_progress_to_stderr_and_returns_the_digest(bindir: Path, capfd: pytest.CaptureFixture) -> None:
    fake = script(bindir, "docker",
                  f"echo 'The push refers to repository [h/app]'\necho 'v1: digest: {DIGEST} size: 415'\n")
    digest = engine.push(engine.Engine("docker", str(fake), "docker"), "h/app:v1", env=os.environ, extra=[])
    out, err = capfd.readouterr()
    assert digest == DIGEST
    assert out == "" and f"v1: digest: {DIGEST}" in err


def test_push_without_a_digest_is_an_error(bindir: Path) -> None:
    fake = script(bindir, "docker", "echo done\n")
    with pytest.raises(EngineError, match="did not report its digest"):
        engine.push(engine.Engine("docker", str(fake), "docker"), "h/app:v1", env=os.environ, extra=[])


@pytest.mark.parametrize("message, hint", [
    ("name unknown: repository app not found", "--create-repository"),
    ("unauthorized: authentication required", "assumer policy"),
])
def test_push_refused_hints(bindir: Path, message: str, hint: str) -> None:
    fake = script(bindir, "docker", f"echo '{message}' >&2; exit 1\n")
    with pytest.raises(EngineError) as caught:
        engine.push(engine.Engine("docker", str(fake), "docker"), "h/app:v1", env=os.environ, extra=[])
    assert message in str(caught.value) and hint in str(caught.value)


def test_podman_digest_comes_from_the_digest_file(bindir: Path, tmp_path: Path) -> None:
    # podman push --authfile A --digestfile D REF: write the digest where asked
    fake = script(bindir, "podman", f'printf "{DIGEST}" > "$5"\n')
    digest_file = tmp_path / "digest"
    extra = ["--authfile", "a", "--digestfile", str(digest_file)]
    assert engine.push(engine.Engine("podman", str(fake), "podman"), "h/app:v1", env=os.environ, extra=extra) == DIGEST


SIGNAL_CHILD = """
import os, signal, sys, time
from pathlib import Path
from assumer.ecr import engine
runner = engine.Engine("docker", sys.argv[1], "docker")
environ = {"HOME": sys.argv[2], "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": sys.argv[2]}
try:
    with engine.stop_on_signals():
        with engine.private_docker_config(runner, "h:1", {}, environ) as (env, extra):
            engine.push(runner, "h/app:v1", env=env, extra=extra)
except engine.Stopped as exc:
    print(exc.exit_code, flush=True)
"""


@pytest.mark.parametrize("signum", [15, 2, 1])
def test_a_signal_stops_the_engine_and_removes_the_config(bindir: Path, tmp_path: Path, signum: int) -> None:
    pids = tmp_path / "engine.pid"
    fake = script(bindir, "docker", f"echo $$ > {pids}; exec sleep 60\n")
    work = tmp_path / "work"
    work.mkdir()
    child = subprocess.Popen([sys.executable, "-c", SIGNAL_CHILD, str(fake), str(work)], stdout=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 60
    while not (pids.exists() and pids.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the shell creates the file before it writes the pid
    engine_pid = int(pids.read_text())
    child.send_signal(signum)
    out, _ = child.communicate(timeout=30)
    assert out.strip() == str(128 + signum)
    assert list(work.glob("assumer-push-*")) == []
    with pytest.raises(ProcessLookupError):
        os.kill(engine_pid, 0)

"""Concurrency: the single-flight lock, proven with real processes, a real keyring and the proxy's count.

- N cold callers for one profile make ONE AssumeRole and all get the same valid session;
- a held lock for one profile does not slow another profile down;
- a holder killed with SIGKILL (no clean-up at all) does not block the next caller.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from tests.tools.awshome import AwsHome
from tests.tools.secret_service import keyring_items

CALLERS = 32


def start(aws_home: AwsHome, args: list[str], env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([aws_home.assumer, *args], env=aws_home.process_env(env_extra), cwd=aws_home.home,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def caller_arn(aws_home: AwsHome, document: dict[str, str]) -> str:
    """Use the credentials for real: GetCallerIdentity through the proxy, as any SDK would."""
    client = boto3.client("sts", endpoint_url=aws_home.proxy.url, region_name="ap-northeast-1",
                          aws_access_key_id=document["AccessKeyId"],
                          aws_secret_access_key=document["SecretAccessKey"],
                          aws_session_token=document["SessionToken"])
    return client.get_caller_identity()["Arn"]


@pytest.mark.parametrize("profile,assumes", [("r", {"R": 1}), ("r2", {"R": 1, "R2": 1})])
def test_concurrent_cold_callers_make_one_assume_role(aws_home: AwsHome, profile: str,
                                                      assumes: dict[str, int]) -> None:
    processes = [start(aws_home, ["credential-process", profile]) for _ in range(CALLERS)]
    results = [finish(process) for process in processes]
    for code, _, err in results:
        assert code == 0, err
        assert err == "", err
    documents = [json.loads(out) for _, out, _ in results]
    assert documents[0]["Version"] == 1  # the credential_process format, as SDKs read it
    assert {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} <= set(documents[0])
    assert all(document == documents[0] for document in documents), "callers got different sessions"
    sent = [params["RoleArn"].rsplit("/", 1)[-1] for params in aws_home.proxy.params("AssumeRole")]
    assert {role: sent.count(role) for role in set(sent)} == assumes
    role = "R2" if profile == "r2" else "R"
    assert f":assumed-role/{role}/" in caller_arn(aws_home, documents[0])
    # One session cached for the chain's each link, not one per caller.
    assert len(keyring_items("assumer")) == len(assumes)


def test_concurrent_mixed_commands_share_one_session(aws_home: AwsHome) -> None:
    commands = [["env", "r", "--shell", "json"], ["credential-process", "r"],
                ["exec", "r", "--", "sh", "-c", 'printf %s "$AWS_ACCESS_KEY_ID"']] * 6
    results = [finish(p) for p in [start(aws_home, c) for c in commands]]
    key_ids = set()
    for (code, out, err), command in zip(results, commands, strict=True):
        assert code == 0, err
        if command[0] == "env":
            key_ids.add(json.loads(out)["AWS_ACCESS_KEY_ID"])
        elif command[0] == "credential-process":
            key_ids.add(json.loads(out)["AccessKeyId"])
        else:
            key_ids.add(out)
    assert len(key_ids) == 1
    assert aws_home.proxy.count("AssumeRole") == 1


def lock_files(aws_home: AwsHome) -> list[Path]:
    lock_dir = Path(aws_home.env["XDG_RUNTIME_DIR"]) / "assumer"
    return sorted(p for p in lock_dir.glob("*.lock") if p.name != "index.lock")


def session_lock_of(aws_home: AwsHome, profile: str) -> Path:
    """The lock file a cold call of ``profile`` takes (found by running it once, then clearing)."""
    before = set(lock_files(aws_home))
    result = aws_home.run(["env", profile])
    assert result.returncode == 0, result.stderr
    created = set(lock_files(aws_home)) - before
    assert len(created) == 1, created
    assert aws_home.run(["clear", profile]).returncode == 0
    return created.pop()


def hold(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_held_lock_does_not_block_another_profile(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("other", "role_session_name = other-session")
    held = hold(session_lock_of(aws_home, "r"))
    try:
        started = time.monotonic()
        other = aws_home.run(["env", "other"], env_extra={"ASSUMER_LOCK_TIMEOUT": "60"})
        other_elapsed = time.monotonic() - started
        assert other.returncode == 0 and other.stderr == "", other.stderr
        assert other_elapsed < 10
        # The control: the profile whose lock is held does wait for it (then goes ahead, saying so).
        started = time.monotonic()
        blocked = aws_home.run(["env", "r"], env_extra={"ASSUMER_LOCK_TIMEOUT": "3"})
        assert time.monotonic() - started >= 3
        assert blocked.returncode == 0, blocked.stderr
        assert "going ahead" in blocked.stderr
    finally:
        os.close(held)


def test_concurrent_different_profiles_run_in_parallel(aws_home: AwsHome) -> None:
    """Each AssumeRole is held 3 s at the proxy: two profiles together take ~3 s, not ~6 s."""
    aws_home.add_role_profile("other", "role_session_name = other-session")
    aws_home.proxy.delay("AssumeRole", 3, count=2)
    started = time.monotonic()
    processes = [start(aws_home, ["env", "r"]), start(aws_home, ["env", "other"])]
    for process in processes:
        code, _, err = finish(process)
        assert code == 0, err
    assert time.monotonic() - started < 5.5
    assert aws_home.proxy.count("AssumeRole") == 2


def test_a_holder_killed_with_sigkill_does_not_block_the_next_call(aws_home: AwsHome) -> None:
    aws_home.proxy.delay("AssumeRole", 120, count=1)  # the first caller sits inside the lock
    holder = start(aws_home, ["env", "r"])
    try:
        deadline = time.monotonic() + 30
        while aws_home.proxy.count("AssumeRole") == 0:
            assert time.monotonic() < deadline, "the first caller never reached STS"
            time.sleep(0.05)
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(timeout=10) == -signal.SIGKILL
        started = time.monotonic()
        result = aws_home.run(["env", "r", "--shell", "json"], env_extra={"ASSUMER_LOCK_TIMEOUT": "60"})
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        aws_home.proxy.reset()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # neither a wait nor a warning about the dead holder's lock
    assert elapsed < 10
    assert json.loads(result.stdout)["AWS_ACCESS_KEY_ID"].startswith("ASIA")


def test_a_lock_file_replaced_by_a_symlink_is_refused_cleanly(aws_home: AwsHome, tmp_path: Path) -> None:
    """The lock is opened without following symlinks: a planted link is an error, not a traceback."""
    lock = session_lock_of(aws_home, "r")
    target = tmp_path / "elsewhere"
    target.write_text("")
    lock.unlink()
    lock.symlink_to(target)
    result = aws_home.run(["env", "r"])
    assert result.returncode == 3, result.stderr  # an unsafe set-up is a configuration error
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assumer: error: "), result.stderr
    assert str(lock) in lines[0]
    assert result.stdout == ""
    assert target.read_text() == ""


def make_unsafe(directory: Path) -> None:
    """``directory`` as another user would leave it: theirs (when we are root), else open to everyone."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o777)
    if os.geteuid() == 0:
        os.chown(directory, 65534, 65534)  # nobody


def test_a_lock_directory_another_user_made_is_warned_about_and_avoided(aws_home: AwsHome) -> None:
    """Another user pre-created XDG_RUNTIME_DIR/assumer (a shared runtime dir): one warning, the cache dir's locks."""
    lock_dir = Path(aws_home.env["XDG_RUNTIME_DIR"]) / "assumer"
    make_unsafe(lock_dir)
    result = aws_home.run(["env", "r"])
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assumer: warning: ") and str(lock_dir) in lines[0], lines
    fallback = Path(aws_home.env["XDG_CACHE_HOME"]) / "assumer" / "locks"
    assert str(fallback) in lines[0]
    assert list(fallback.glob("*.lock")) and not list(lock_dir.glob("*.lock"))
    assert aws_home.proxy.count("AssumeRole") == 1


def test_lock_directories_that_are_both_unsafe_are_refused(aws_home: AwsHome) -> None:
    lock_dir = Path(aws_home.env["XDG_RUNTIME_DIR"]) / "assumer"
    fallback = Path(aws_home.env["XDG_CACHE_HOME"]) / "assumer" / "locks"
    make_unsafe(lock_dir)
    make_unsafe(fallback)
    result = aws_home.run(["env", "r"])
    lines = result.stderr.splitlines()
    assert result.returncode == 3 and len(lines) == 1, result.stderr
    assert lines[0].startswith("assumer: error: ") and str(lock_dir) in lines[0] and str(fallback) in lines[0]
    assert aws_home.proxy.count("AssumeRole") == 0

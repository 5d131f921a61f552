"""Secret hygiene, asserted on the real processes and files.

- no secret in any process's argv while ``exec``'s command runs (``/proc/*/cmdline``);
- no secret in any file under $HOME, $TMPDIR or the runtime directory after each
  command, and none anywhere under /tmp at the end (the keyring daemon's own
  encrypted store excepted, see tests/tools/secrets_scan.py);
- ``--debug`` of real fresh assumes (plain, chained, whoami) prints no secret, while it
  does print botocore's request and response logging (so the check can fail).

U's long-term keys are stored with ``assumer add`` (no credentials file), so U's
secret must not be on disk either.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.secrets_scan import files_containing, files_with_secrets


@pytest.fixture
def keyring_home(aws_home: AwsHome, tmp_path: Path) -> AwsHome:
    """The README's setup with U's keys in the keyring instead of ~/.aws/credentials, and a private TMPDIR."""
    u = aws_home.world.u
    aws_home.credentials_file.write_text("")
    added = aws_home.run(["add", "u"], input=f"{u.access_key_id}\n{u.secret_access_key}\n")
    assert added.returncode == 0, added.stderr
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    aws_home.env["TMPDIR"] = str(tmpdir)
    return aws_home


def roots(aws_home: AwsHome) -> list[Path]:
    return [aws_home.home, Path(aws_home.env["TMPDIR"]), Path(aws_home.env["XDG_RUNTIME_DIR"])]


def secrets_of(document: dict[str, str]) -> set[str]:
    keys = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "SecretAccessKey", "SessionToken")
    return {document[k] for k in keys if document.get(k)}


def test_no_secret_on_disk_after_each_command(keyring_home: AwsHome, tmp_path: Path,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    aws_home = keyring_home
    secrets = {aws_home.world.u.secret_access_key}
    aws_home.add_config(f"[profile viaproc]\ncredential_process = {aws_home.assumer} credential-process r\n"
                        "region = ap-northeast-1\n")
    steps: list[list[str]] = [
        ["env", "r", "--shell", "json"],
        ["env", "r2", "--shell", "json"],
        ["env", "r", "--shell", "dotenv"],
        ["env", "r", "--shell", "fish"],
        ["credential-process", "r"],
        ["exec", "r", "--", "sh", "-c", 'printf "{\\"AWS_SESSION_TOKEN\\": \\"%s\\"}" "$AWS_SESSION_TOKEN"'],
        ["whoami", "r"],
        ["list"],
        ["--debug", "env", "r", "--refresh", "--shell", "json"],
        ["env", "r", "--no-cache", "--shell", "json"],
        ["clear", "r"],
        ["credential-process", "r2"],
        ["clear", "--all"],
    ]
    for args in steps:
        result = aws_home.run(args)
        assert result.returncode == 0, (args, result.stderr)
        text = result.stdout.strip()
        if text.startswith("{"):
            secrets |= secrets_of(json.loads(text))
        leaks = files_with_secrets(secrets, *roots(aws_home))
        assert not leaks, f"after assumer {' '.join(args)}: {leaks}"
    # Through the AWS CLI (credential_process) and a shell eval, then the whole of /tmp once.
    cli = aws_home.command(["aws", "sts", "get-caller-identity", "--profile", "viaproc"])
    assert cli.returncode == 0, cli.stderr
    shell = aws_home.shell("bash", 'eval "$(assumer env r)" && aws sts get-caller-identity --output text')
    assert shell.returncode == 0, shell.stderr
    assert len(secrets) >= 5  # U's secret and several sessions' secrets and tokens were collected
    # The other tests' HOMEs hold U's keys in their credentials files (written by the fixture), so
    # the suite's own temp tree is left out of the /tmp scan, except this test's directory.
    others = tuple(p for p in tmp_path_factory.getbasetemp().iterdir() if p != tmp_path)
    leaks = files_with_secrets(secrets, *roots(aws_home), tmp_path, Path("/tmp"), exclude=others)
    assert not leaks, leaks


def test_scan_finds_a_secret_that_is_on_disk(keyring_home: AwsHome) -> None:
    """The control: the same scan does find a secret written to a file."""
    planted = Path(keyring_home.env["TMPDIR"]) / "planted"
    planted.write_text("x" + keyring_home.world.u.secret_access_key + "x")
    assert files_with_secrets({keyring_home.world.u.secret_access_key}, *roots(keyring_home)) == {
        keyring_home.world.u.secret_access_key: [planted]}
    assert files_containing(keyring_home.world.u.secret_access_key, *roots(keyring_home)) == [planted]


def cmdlines() -> dict[int, bytes]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                found[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
    return found


def wait_for_cmdline(pid: int, wanted: bytes, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while cmdlines().get(pid) != wanted:
        assert time.monotonic() < deadline, f"pid {pid} never became {wanted!r}"
        time.sleep(0.05)


def child_secrets(pid: int) -> set[str]:
    """The credentials in the running child's environment (the values that must not be in any argv)."""
    environ = dict(entry.split("=", 1) for entry in
                   Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in entry)
    return {environ["AWS_SECRET_ACCESS_KEY"], environ["AWS_SESSION_TOKEN"]}


@pytest.mark.parametrize("warm", [False, True])
def test_no_secret_in_any_argv_while_exec_runs(keyring_home: AwsHome, warm: bool) -> None:
    aws_home = keyring_home
    if warm:
        assert aws_home.run(["env", "r"]).returncode == 0
    process = subprocess.Popen([aws_home.assumer, "exec", "r", "--", "sleep", "30"], env=aws_home.env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        wait_for_cmdline(process.pid, b"sleep\x0030\x00")
        secrets = child_secrets(process.pid) | {aws_home.world.u.secret_access_key}
        every = cmdlines()
        assert process.pid in every
        for pid, line in every.items():
            for secret in secrets:
                assert secret.encode() not in line, f"a secret is in the argv of pid {pid}"
    finally:
        process.kill()
        process.wait()


def test_no_secret_in_argv_of_a_shell_that_evaluated_env(keyring_home: AwsHome) -> None:
    aws_home = keyring_home
    script = 'eval "$(assumer env r)"; exec sleep 30'
    process = subprocess.Popen(["bash", "-c", script], env=aws_home.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_for_cmdline(process.pid, b"sleep\x0030\x00")
        secrets = child_secrets(process.pid)
        for pid, line in cmdlines().items():
            for secret in secrets:
                assert secret.encode() not in line, f"a secret is in the argv of pid {pid}"
    finally:
        process.kill()
        process.wait()


def test_argv_scan_sees_a_secret_on_a_command_line(keyring_home: AwsHome) -> None:
    """The control: a secret passed on argv is found by the same scan."""
    secret = keyring_home.world.u.secret_access_key
    process = subprocess.Popen(["sh", "-c", "sleep 30", secret])
    try:
        time.sleep(0.2)
        assert any(secret.encode() in line for line in cmdlines().values())
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("args", [
    ["env", "r", "--shell", "json"],
    ["env", "r2", "--shell", "json"],
    ["credential-process", "r"],
    ["whoami", "r"],
])
def test_debug_output_of_a_fresh_assume_holds_no_secret(keyring_home: AwsHome, args: list[str]) -> None:
    aws_home = keyring_home
    result = aws_home.run(["--debug", *args, "--refresh"])
    assert result.returncode == 0, result.stderr[-3000:]
    # The logging really is there: botocore's request and the response body.
    assert "botocore" in result.stderr and "AssumeRole" in result.stderr
    assert "Response body" in result.stderr
    secrets = {aws_home.world.u.secret_access_key}
    if result.stdout.startswith("{"):
        secrets |= secrets_of(json.loads(result.stdout))
    # Every session secret assumer holds (chained sources too) is in the keyring's cache; read it back.
    again = aws_home.run(["env", args[1], "--shell", "json"])
    secrets |= secrets_of(json.loads(again.stdout))
    source = aws_home.run(["env", "r", "--shell", "json"])
    secrets |= secrets_of(json.loads(source.stdout))
    for secret in secrets:
        assert secret not in result.stderr, "a secret reached the --debug output"

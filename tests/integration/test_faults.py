"""Faults in the credential core: clear message, bounded time, nothing corrupted.

Real services throughout (tests/run.sh): moto behind the recording proxy, which
injects throttling, errors and latency; the real Secret Service; real processes,
signals and a real pseudo-terminal.

Exit codes of the README's exit-code table and the test that reaches each one (issue 6 asks that
every code be reached by at least one test):

    0    test_throttling_twice_is_retried_and_succeeds (and most others)
    1    test_a_faulty_keyring_backend_is_an_internal_error_with_a_redacted_traceback
    2    tests/integration/test_badinput.py::test_unknown_shell_is_a_click_usage_error,
         tests/unit/test_usage.py::test_usage_errors_exit_2_without_traceback
    3    tests/integration/test_badinput.py::test_bad_input_one_line_documented_code_nothing_written,
         test_duration_above_the_roles_maximum_as_sts_reports_it,
         test_mfa_code_typed_wrong_at_the_prompt_is_a_bad_value
    4    test_aws_refusals_are_distinct_and_name_the_profile, test_revoked_cached_session_names_refresh
    5    test_keyring_unavailable_env_works_add_and_remove_exit_5
    6    test_unreachable_endpoint_fails_fast_with_exit_6, test_slow_endpoint_fails_within_the_read_bound
    7    the ECR engineer's tests (tests/integration/test_ecr_*.py): engine missing, daemon down,
         registry refusing login or push
    126  test_exec_of_a_file_that_cannot_run_exits_126
    127  test_exec_of_a_missing_command_exits_127
    130  test_ctrl_c_at_the_mfa_prompt_exits_130_and_restores_the_terminal,
         test_sigterm_while_assuming_exits_130_and_leaves_nothing,
         test_ctrl_c_at_the_add_prompt_exits_130_and_stores_nothing
    143  (the command's own status after exec) test_sigterm_reaches_the_command_that_exec_became
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import termios
import textwrap
import time
from pathlib import Path

import pytest
import secretstorage
from secretstorage.util import SS_PATH, DBusAddressWrapper, format_secret, open_session

from assumer.core import sts
from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.net import free_port
from tests.tools.secret_service import keyring_items, overwrite_secrets

# -- helpers ----------------------------------------------------------------------------


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The command failed with ``code`` and said so in exactly one line, nothing on stdout."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assumer: internal error: " if code == 1 else "assumer: error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def warnings_of(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = result.stderr.splitlines()
    assert all(line.startswith("assumer: warning: ") for line in lines), result.stderr
    return lines


def session_json(aws_home: AwsHome, profile: str = "r", *args: str, **kwargs) -> dict[str, str]:
    result = aws_home.run(["env", profile, "--shell", "json", *args], **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def add_mfa_profile(aws_home: AwsHome, name: str = "rmfa") -> None:
    aws_home.add_role_profile(name, f"mfa_serial = {MFA_SERIAL}")


# -- network ----------------------------------------------------------------------------


def test_unreachable_endpoint_fails_fast_with_exit_6(aws_home: AwsHome) -> None:
    started = time.monotonic()
    result = aws_home.run(["env", "r"], env_extra={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    elapsed = time.monotonic() - started
    line = one_error_line(result, 6)
    assert "'r'" in line and "cannot reach the endpoint" in line
    # Refused connections are retried (3 attempts, backoff): seconds, far below 3 x 5 s.
    assert elapsed < 10
    assert keyring_items("assumer") == []


def test_slow_endpoint_fails_within_the_read_bound(aws_home: AwsHome) -> None:
    """STS answers after 600 s: the read timeout (lowered to 2 s here) x 3 attempts bounds the wait."""
    aws_home.proxy.delay("AssumeRole", 600, count=10)
    started = time.monotonic()
    result = aws_home.run(["env", "r"], env_extra={"ASSUMER_READ_TIMEOUT": "2"}, timeout=120)
    elapsed = time.monotonic() - started
    aws_home.proxy.reset()
    line = one_error_line(result, 6)
    assert "'r'" in line
    assert 6 <= elapsed < 6 + 10, elapsed  # 3 attempts x 2 s, plus backoff (and start-up)


def test_slow_endpoint_makes_exactly_the_documented_attempts(aws_home: AwsHome) -> None:
    aws_home.proxy.delay("AssumeRole", 600, count=10)
    result = aws_home.run(["env", "r"], env_extra={"ASSUMER_READ_TIMEOUT": "1"}, timeout=120)
    attempts = aws_home.proxy.count("AssumeRole")
    aws_home.proxy.reset()
    one_error_line(result, 6)
    assert attempts == sts.MAX_ATTEMPTS


def test_throttling_twice_is_retried_and_succeeds(aws_home: AwsHome) -> None:
    aws_home.proxy.throttle("AssumeRole", 2)
    result = aws_home.run(["env", "r", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert json.loads(result.stdout)["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert aws_home.proxy.count("AssumeRole") == 3
    assert [r.status for r in aws_home.proxy.requests("AssumeRole")] == [400, 400, 200]


def test_throttled_on_every_attempt_exits_6_naming_throttling(aws_home: AwsHome) -> None:
    aws_home.proxy.throttle("AssumeRole", 100)
    line = one_error_line(aws_home.run(["env", "r"]), 6)
    assert "throttled" in line and "'r'" in line
    assert aws_home.proxy.count("AssumeRole") == sts.MAX_ATTEMPTS


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_then_exit_6(aws_home: AwsHome, status: int) -> None:
    aws_home.proxy.fail("AssumeRole", status, "InternalFailure", "boom", count=100)
    line = one_error_line(aws_home.run(["env", "r"]), 6)
    assert "'r'" in line


# -- AWS refusals -----------------------------------------------------------------------

REFUSALS = {
    "AccessDenied": (403, "User: arn:aws:iam::123456789012:user/U is not authorized to perform: sts:AssumeRole"),
    "ExpiredToken": (400, "The security token included in the request is expired"),
    "InvalidClientTokenId": (403, "The security token included in the request is invalid."),
}


def test_aws_refusals_are_distinct_and_name_the_profile(aws_home: AwsHome) -> None:
    lines = {}
    for code, (status, message) in REFUSALS.items():
        aws_home.proxy.fail("AssumeRole", status, code, message)
        lines[code] = one_error_line(aws_home.run(["env", "r"]), 4)
        assert "'r'" in lines[code], lines[code]
    assert "access denied" in lines["AccessDenied"]
    assert "expired" in lines["ExpiredToken"]
    assert "not valid" in lines["InvalidClientTokenId"]
    # Three different first halves (what happened), not one message with another code.
    assert len({line.split(" (")[0] for line in lines.values()}) == 3
    assert keyring_items("assumer") == []


def test_real_denial_by_moto_names_the_profile(aws_home: AwsHome) -> None:
    """Keys of a user with no permission at all (moto's own 403), not an injected error."""
    nope = aws_home.world.nope
    aws_home.add_keys("nope", nope)
    aws_home.add_config("[profile nope]\nregion = ap-northeast-1\n")
    aws_home.add_role_profile("rn", source="nope")
    line = one_error_line(aws_home.run(["env", "rn"]), 4)
    assert "'rn'" in line and "access denied" in line
    assert "role/R" in line  # the role that was refused is named too
    assert nope.secret_access_key not in line


def test_duration_above_the_roles_maximum_as_sts_reports_it(aws_home: AwsHome) -> None:
    aws_home.proxy.fail("AssumeRole", 400, "ValidationError",
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    line = one_error_line(aws_home.run(["env", "r", "--duration", "43200"]), 3)
    assert "'r'" in line and "MaxSessionDuration" in line
    assert aws_home.proxy.params("AssumeRole")[0]["DurationSeconds"] == "43200"


def test_revoked_cached_session_names_refresh(aws_home: AwsHome) -> None:
    """The clock says the cached session is valid, STS rejects it: whoami says to --refresh."""
    session_json(aws_home)
    for code, status in (("InvalidClientTokenId", 403), ("ExpiredToken", 400)):
        aws_home.proxy.fail("GetCallerIdentity", status, code, "The security token included in the request is invalid")
        line = one_error_line(aws_home.run(["whoami", "r"]), 4)
        assert "--refresh" in line and "'r'" in line
    assert aws_home.proxy.count("AssumeRole") == 1  # the cached session was used both times
    fixed = aws_home.run(["whoami", "r", "--refresh"])
    assert fixed.returncode == 0, fixed.stderr
    assert "Session:  fresh" in fixed.stdout
    assert aws_home.proxy.count("AssumeRole") == 2


# -- the keyring --------------------------------------------------------------------------

FAILING_WRITE_BACKEND = textwrap.dedent('''
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordSetError

    class Keyring(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            return None

        def set_password(self, service, username, password):
            raise PasswordSetError("the disk is full")

        def delete_password(self, service, username):
            raise PasswordSetError("the disk is full")
''')

BROKEN_BACKEND = textwrap.dedent('''
    from keyring.backend import KeyringBackend

    class Keyring(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            raise RuntimeError("backend bug while reading " + username)

        def set_password(self, service, username, password):
            raise RuntimeError("backend bug")

        def delete_password(self, service, username):
            raise RuntimeError("backend bug")
''')


def plugin_env(tmp_path: Path, source: str) -> dict[str, str]:
    (tmp_path / "plugin").mkdir(exist_ok=True)
    (tmp_path / "plugin" / "test_backend.py").write_text(source)
    return {"PYTHONPATH": str(tmp_path / "plugin"), "PYTHON_KEYRING_BACKEND": "test_backend.Keyring"}


UNAVAILABLE = {
    "no session bus": {"DBUS_SESSION_BUS_ADDRESS": None},
    "bus address of nothing": {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"},
    "fail backend": {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
}


@pytest.mark.parametrize("how", list(UNAVAILABLE))
def test_keyring_unavailable_env_works_add_and_remove_exit_5(aws_home: AwsHome, how: str) -> None:
    extra = UNAVAILABLE[how]
    result = aws_home.run(["env", "r", "--shell", "json"], env_extra=extra)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    warnings = warnings_of(result)
    assert len(warnings) == 1, result.stderr
    assert "session cache" in warnings[0] and "keyring" in warnings[0]
    assert "PYTHON_KEYRING_BACKEND" in warnings[0]  # the fix is named
    assert "Traceback" not in result.stderr
    again = aws_home.run(["env", "r"], env_extra=extra)
    assert again.returncode == 0, again.stderr
    assert aws_home.proxy.count("AssumeRole") == 2  # nothing could be cached
    keys = aws_home.world.u_second
    added = aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n", env_extra=extra)
    line = one_error_line(added, 5)
    assert "keyring" in line
    assert keys.secret_access_key not in added.stderr
    assert "keyring" in one_error_line(aws_home.run(["remove", "u"], env_extra=extra), 5)


def test_keyring_failing_on_write_still_hands_out_the_session(aws_home: AwsHome, tmp_path: Path) -> None:
    extra = plugin_env(tmp_path, FAILING_WRITE_BACKEND)
    result = aws_home.run(["credential-process", "r"], env_extra=extra)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == 1
    warnings = warnings_of(result)
    assert len(warnings) == 1 and "the disk is full" in warnings[0] and "session cache" in warnings[0]
    assert not (aws_home.home / ".local" / "state" / "assumer" / "index.json").exists()


def test_a_faulty_keyring_backend_is_an_internal_error_with_a_redacted_traceback(
        aws_home: AwsHome, tmp_path: Path) -> None:
    """A backend raising something keyring does not define is a bug (exit 1): one line, --debug tells more."""
    extra = plugin_env(tmp_path, BROKEN_BACKEND)
    line = one_error_line(aws_home.run(["env", "r"], env_extra=extra), 1)
    assert "internal error" in line and "--debug" in line
    debug = aws_home.run(["--debug", "env", "r"], env_extra=extra)
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "RuntimeError: backend bug" in debug.stderr
    assert aws_home.world.u.secret_access_key not in debug.stderr


def unlock_default_collection(password: bytes = b"pw") -> None:
    """Unlock gnome-keyring's default collection without a prompt (tests/run.sh's password)."""
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        secret = format_secret(open_session(connection), password, "text/plain")
        DBusAddressWrapper(SS_PATH, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", connection).call(
            "UnlockWithMasterPassword", "o(oayays)", collection.collection_path, secret)
        assert not collection.is_locked()
    finally:
        connection.close()


@pytest.fixture
def locked_keyring():  # type: ignore[no-untyped-def]
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        collection.lock()
        assert collection.is_locked()
    finally:
        connection.close()
    try:
        yield
    finally:
        unlock_default_collection()


def test_locked_keyring_env_works_with_one_warning_add_exits_5(aws_home: AwsHome, locked_keyring: None) -> None:
    """No one can answer the unlock prompt here: assumer must neither hang nor fail the session."""
    started = time.monotonic()
    result = aws_home.run(["env", "r", "--shell", "json"], timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 20
    warnings = warnings_of(result)
    assert len(warnings) == 1 and "session cache" in warnings[0], result.stderr
    keys = aws_home.world.u_second
    one_error_line(aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n"), 5)


CORRUPT = {
    "not JSON": b"{not json",
    "not UTF-8": b"\xff\xfe\x00\x80 binary",
    "foreign JSON object": b'{"username": "someone", "password": "hunter2"}',
    "JSON list": b"[1, 2, 3]",
    "bad expiration": b'{"AccessKeyId": "ASIA", "SecretAccessKey": "x", "Expiration": "tomorrow"}',
    "empty": b"",
}


@pytest.mark.parametrize("what", list(CORRUPT))
def test_corrupt_or_foreign_cache_entry_is_discarded_and_replaced(aws_home: AwsHome, what: str) -> None:
    first = session_json(aws_home)
    assert overwrite_secrets("assumer", CORRUPT[what]) == 1
    result = aws_home.run(["env", "r", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    warnings = warnings_of(result)
    assert len(warnings) == 1 and "discarding" in warnings[0] and "r" in warnings[0], result.stderr
    second = json.loads(result.stdout)
    assert second["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
    assert aws_home.proxy.count("AssumeRole") == 2
    # Replaced: the next call is a clean cache hit.
    third = aws_home.run(["env", "r", "--shell", "json"])
    assert third.returncode == 0 and third.stderr == ""
    assert json.loads(third.stdout) == second
    assert aws_home.proxy.count("AssumeRole") == 2


def test_corrupt_long_term_keys_name_the_fix(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    assert aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n").returncode == 0
    assert overwrite_secrets("assumer-keys", b"\xff garbage") == 1
    line = one_error_line(aws_home.run(["env", "r"]), 5)
    assert "corrupt" in line and "assumer add u" in line


@pytest.mark.parametrize("breakage", ["index is a directory", "state dir is a file"])
def test_an_unwritable_session_index_costs_list_not_the_session(aws_home: AwsHome, breakage: str) -> None:
    """The index holds no secret and only serves list/clear: failing to write it is a warning."""
    state = Path(aws_home.env["XDG_STATE_HOME"])
    if breakage == "index is a directory":
        (state / "assumer" / "index.json").mkdir(parents=True)
        (state / "assumer").chmod(0o700)
    else:
        state.mkdir(parents=True, exist_ok=True)
        aws_home.env["XDG_STATE_HOME"] = str(state / "not-a-dir")
        (state / "not-a-dir").write_text("")
    first = aws_home.run(["env", "r", "--shell", "json"])
    assert first.returncode == 0, first.stderr
    assert any("session index" in line for line in warnings_of(first))
    assert keyring_items("assumer") != []  # the session itself was cached
    second = aws_home.run(["env", "r", "--shell", "json"])
    assert second.returncode == 0 and json.loads(second.stdout) == json.loads(first.stdout)
    assert aws_home.proxy.count("AssumeRole") == 1
    for args in (["list"], ["clear", "--all"], ["env", "r", "--refresh"]):
        result = aws_home.run(args)
        assert result.returncode == 0, (args, result.stderr)
        assert "error" not in result.stderr and "Traceback" not in result.stderr


# -- exec ---------------------------------------------------------------------------------


def test_exec_of_a_missing_command_exits_127(aws_home: AwsHome) -> None:
    line = one_error_line(aws_home.run(["exec", "r", "--", "no-such-command-xyz"]), 127)
    assert "no-such-command-xyz" in line


def test_exec_of_a_file_that_cannot_run_exits_126(aws_home: AwsHome) -> None:
    script = aws_home.home / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    line = one_error_line(aws_home.run(["exec", "r", "--", str(script)]), 126)
    assert str(script) in line


def wait_for(predicate, timeout: float = 30, interval: float = 0.05):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def test_sigterm_reaches_the_command_that_exec_became(aws_home: AwsHome) -> None:
    process = subprocess.Popen([aws_home.assumer, "exec", "r", "--", "sleep", "30"], env=aws_home.env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        # Same pid, new program: assumer replaced itself with sleep (execvp), so the signal lands there.
        wait_for(lambda: cmdline(process.pid) == ["sleep", "30"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == -signal.SIGTERM
    finally:
        process.kill()
    assert b"Traceback" not in process.stderr.read()


def test_sigterm_status_seen_by_a_shell_is_143(aws_home: AwsHome) -> None:
    marker = aws_home.home / "status"
    script = f'{aws_home.assumer} exec r -- sleep 30; echo $? > {marker}'
    shell = subprocess.Popen(["bash", "-c", script], env=aws_home.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        child = wait_for(lambda: next((int(p) for p in os.listdir("/proc") if p.isdigit()
                                       and cmdline(int(p)) == ["sleep", "30"]
                                       and _ppid(int(p)) == shell.pid), None))
        os.kill(child, signal.SIGTERM)
        assert shell.wait(timeout=10) == 0
    finally:
        shell.kill()
    assert marker.read_text().strip() == "143"


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def test_sigterm_while_assuming_exits_130_and_leaves_nothing(aws_home: AwsHome) -> None:
    """SIGTERM to assumer itself (before exec), while STS is slow: 130, no traceback, nothing cached or held."""
    aws_home.proxy.delay("AssumeRole", 60, count=1)
    process = subprocess.Popen([aws_home.assumer, "env", "r"], env=aws_home.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: aws_home.proxy.count("AssumeRole") == 1)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
        aws_home.proxy.reset()
    assert process.returncode == 130, err
    assert out == "" and "Traceback" not in err
    # click starts a new line first (after a ^C echoed at a terminal); then one line.
    assert [line for line in err.splitlines() if line] == ["assumer: interrupted"]
    assert keyring_items("assumer") == []
    started = time.monotonic()
    again = aws_home.run(["env", "r"], env_extra={"ASSUMER_LOCK_TIMEOUT": "30"})
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert time.monotonic() - started < 10


def test_ctrl_c_while_waiting_for_another_callers_lock_exits_130(aws_home: AwsHome) -> None:
    aws_home.proxy.delay("AssumeRole", 60, count=1)
    holder = subprocess.Popen([aws_home.assumer, "env", "r"], env=aws_home.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    waiter = subprocess.Popen([aws_home.assumer, "env", "r"], env=aws_home.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: aws_home.proxy.count("AssumeRole") == 1)
        time.sleep(1)  # the second caller is now polling the lock
        assert waiter.poll() is None
        waiter.send_signal(signal.SIGINT)
        _, err = waiter.communicate(timeout=15)
    finally:
        for process in (holder, waiter):
            process.kill()
            process.wait()
        aws_home.proxy.reset()
    assert waiter.returncode == 130, err
    assert "Traceback" not in err


# -- MFA ----------------------------------------------------------------------------------


def run_on_pty(aws_home: AwsHome, args: list[str]):  # type: ignore[no-untyped-def]
    """Start assumer with a new pseudo-terminal as its controlling terminal (so /dev/tty works)."""
    import fcntl

    master, slave = os.openpty()

    def become_tty_owner() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([aws_home.assumer, *args], env=aws_home.env, stdin=slave, stdout=slave,
                               stderr=slave, preexec_fn=become_tty_owner, close_fds=True)
    return process, master, slave


def read_until(master: int, needle: bytes, timeout: float = 30) -> bytes:
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"never saw {needle!r}; got {seen!r}"
        ready, _, _ = select.select([master], [], [], remaining)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_ctrl_c_at_the_mfa_prompt_exits_130_and_restores_the_terminal(aws_home: AwsHome) -> None:
    add_mfa_profile(aws_home)
    process, master, slave = run_on_pty(aws_home, ["env", "rmfa"])
    try:
        shown = read_until(master, b"MFA code for")
        assert not termios.tcgetattr(slave)[3] & termios.ECHO  # the prompt hides what is typed
        os.write(master, b"\x03")  # Ctrl-C typed at the terminal: the tty driver sends SIGINT
        assert process.wait(timeout=15) == 130
        shown += read_until(master, b"interrupted", timeout=5)
        assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo was left off"
    finally:
        process.kill()
        os.close(master)
        os.close(slave)
    assert b"Traceback" not in shown
    assert aws_home.proxy.count("AssumeRole") == 0
    assert keyring_items("assumer") == []
    # Nothing left behind: the lock is free (the next call with a code proceeds at once).
    started = time.monotonic()
    again = aws_home.run(["env", "rmfa", "--mfa-code", "123456"], env_extra={"ASSUMER_LOCK_TIMEOUT": "30"})
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - started < 15


def test_mfa_code_typed_at_the_prompt_is_sent(aws_home: AwsHome) -> None:
    """The control case for the test above: the same prompt, answered, succeeds."""
    add_mfa_profile(aws_home)
    process, master, slave = run_on_pty(aws_home, ["credential-process", "rmfa"])
    try:
        read_until(master, b"MFA code for")
        os.write(master, b"654321\n")
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        os.close(master)
        os.close(slave)
    params = aws_home.proxy.params("GetSessionToken")[-1]  # the source's MFA session, then the role with it
    assert params["SerialNumber"] == MFA_SERIAL and params["TokenCode"] == "654321"
    assert "TokenCode" not in aws_home.proxy.params("AssumeRole")[-1]


def test_mfa_code_typed_wrong_at_the_prompt_is_a_bad_value(aws_home: AwsHome) -> None:
    """Asked again after a malformed code; the third malformed one ends it (exit 3)."""
    add_mfa_profile(aws_home)
    process, master, slave = run_on_pty(aws_home, ["env", "rmfa"])
    try:
        for typed in (b"12ab\n", b"1234567\n", b"abcdef\n"):
            read_until(master, b"MFA code for")
            os.write(master, typed)
        assert process.wait(timeout=30) == 3
        shown = read_until(master, b"6 digits", timeout=5)
    finally:
        process.kill()
        os.close(master)
        os.close(slave)
    assert b"Traceback" not in shown
    assert aws_home.proxy.count("AssumeRole") == 0


def test_ctrl_c_at_the_add_prompt_exits_130_and_stores_nothing(aws_home: AwsHome) -> None:
    process, master, slave = run_on_pty(aws_home, ["add", "u"])
    try:
        read_until(master, b"Access key ID")
        # click writes the prompt before input() starts reading: a ^C in that gap is noted by
        # Python but the read then blocks (a CPython race, not assumer's), so let the read start.
        time.sleep(0.5)
        os.write(master, b"\x03")
        assert process.wait(timeout=15) == 130
        shown = read_until(master, b"interrupted", timeout=5)
    finally:
        process.kill()
        os.close(master)
        os.close(slave)
    assert b"Traceback" not in shown
    assert keyring_items("assumer-keys") == []


def test_mfa_under_credential_process_without_a_terminal_fails_at_once(aws_home: AwsHome) -> None:
    """An SDK runs credential_process with no terminal: fail at once, naming --mfa-code; never hang."""
    add_mfa_profile(aws_home)
    started = time.monotonic()
    direct = aws_home.run(["credential-process", "rmfa"], timeout=30)
    line = one_error_line(direct, 4)
    assert "--mfa-code" in line and "'rmfa'" in line
    aws_home.add_config(f"[profile viaproc]\ncredential_process = {aws_home.assumer} credential-process rmfa\n"
                        "region = ap-northeast-1\n")
    through_sdk = aws_home.command(["aws", "sts", "get-caller-identity", "--profile", "viaproc"], timeout=60)
    assert through_sdk.returncode != 0
    assert "--mfa-code" in through_sdk.stderr  # botocore shows the helper's stderr
    assert time.monotonic() - started < 20
    assert aws_home.proxy.count("AssumeRole") == 0


# -- role chaining --------------------------------------------------------------------------


def test_chained_duration_above_one_hour_is_capped_with_a_warning(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "r2", "--duration", "7200", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    warnings = warnings_of(result)
    assert len(warnings) == 1 and "3600" in warnings[0] and "'r2'" in warnings[0] and "chain" in warnings[0]
    sent = {p["RoleArn"]: p["DurationSeconds"] for p in aws_home.proxy.params("AssumeRole")}
    assert sent[aws_home.world.role_r2] == "3600"
    assert sent[aws_home.world.role_r] == "3600"  # the source link keeps its own default
    variables = json.loads(result.stdout)
    left = int(variables["ASSUMER_EXPIRATION"]) - time.time()
    assert 3000 < left <= 3600


def test_unchained_duration_above_one_hour_is_sent_as_asked(aws_home: AwsHome) -> None:
    """The control case: only chaining is capped."""
    result = aws_home.run(["env", "r", "--duration", "7200"])
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert aws_home.proxy.params("AssumeRole")[-1]["DurationSeconds"] == "7200"

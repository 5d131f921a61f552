"""Bad input through the real command line: one line on stderr, the documented code, nothing written.

Each case runs ``python -m assumer`` as a subprocess in a throw-away HOME whose keyring
is a small file-backed fake (``PYTHON_KEYRING_BACKEND``), so "nothing written" is
checked on the real process: no keyring write, and not one file created or changed
under HOME or the runtime directory. STS points at a closed loopback port, so a case
that wrongly got as far as the network would fail with exit 6, not pass.

Usage errors (exit 2) are click's own: tests/unit/test_usage.py parses them in
process with CliRunner; the real process is here once (an unknown --shell).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tools.awsconfig import MFA_SERIAL, ROLE_R, credentials, role_profile, standard_config

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# The suite's u, r and r2, then a profile for each kind of mistake (no region: none is needed).
CONFIG = "\n".join([
    standard_config(),
    role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}", region=None),
    role_profile("loop1", source="loop2", region=None),
    role_profile("loop2", source="loop3", region=None),
    role_profile("loop3", source="loop1", region=None),
    "[profile bare]\nregion = eu-west-1\n",
    role_profile("badarn", role="arn:aws:iam::12345:role/R", region=None),
    role_profile("longrole", "duration_seconds = 99999", region=None),
    role_profile("wordy", "duration_seconds = an hour", region=None),
    role_profile("badname", "role_session_name = has space", region=None),
    role_profile("nosource", source=None, region=None),
    role_profile("ec2", "credential_source = Ec2InstanceMetadata", source=None, region=None),
    role_profile("ghost", source="missing", region=None),
    "[profile noprog]\ncredential_process = /nonexistent/credential-program\n",
    "[profile notjson]\ncredential_process = /bin/echo not json\n",
    "[profile binary]\ncredential_process = /usr/bin/printf \\377\\376secret\n",
])
CREDENTIALS = credentials("u", "AKIAIOSFODNN7EXAMPLE", SECRET)

# A keyring backend that keeps entries in a JSON file and logs every write, loaded by
# the child through PYTHON_KEYRING_BACKEND (keyring's own documented override).
FAKE_KEYRING = textwrap.dedent('''
    import json, os
    from keyring.backend import KeyringBackend

    class Keyring(KeyringBackend):
        priority = 1

        def _load(self):
            try:
                with open(os.environ["FAKE_KEYRING"]) as handle:
                    return json.load(handle)
            except FileNotFoundError:
                return {}

        def _save(self, data, what):
            with open(os.environ["FAKE_KEYRING"], "w") as handle:
                json.dump(data, handle)
            with open(os.environ["FAKE_KEYRING"] + ".log", "a") as handle:
                handle.write(what + "\\n")

        def get_password(self, service, username):
            return self._load().get(service + "/" + username)

        def set_password(self, service, username, password):
            data = self._load()
            data[service + "/" + username] = password
            self._save(data, "set " + service + "/" + username)

        def delete_password(self, service, username):
            from keyring.errors import PasswordDeleteError

            data = self._load()
            if data.pop(service + "/" + username, None) is None:
                raise PasswordDeleteError(username)
            self._save(data, "delete " + service + "/" + username)
''')


@dataclass
class Home:
    root: Path
    home: Path
    keyring_file: Path
    env: dict[str, str]

    def run(self, args: list[str], input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assumer", *args], input=input if input is not None else "",
                              env=self.env, cwd=self.home, capture_output=True, text=True, timeout=60,
                              start_new_session=True)

    def snapshot(self) -> dict[str, str]:
        """Every file under the test root (HOME, runtime dir, keyring), by content hash.

        Empty lock files in the runtime directory are left out: taking the single-flight
        lock before the keyring is read is not writing anything.
        """
        found = {}
        for directory, _, files in os.walk(self.root):
            for name in files:
                path = Path(directory) / name
                if "__pycache__" in path.parts:
                    continue
                if path.parent == self.root / "run" / "assumer" and name.endswith(".lock") \
                        and path.stat().st_size == 0:
                    continue
                found[str(path.relative_to(self.root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found


@pytest.fixture
def home(tmp_path: Path) -> Home:
    root = tmp_path
    user_home = root / "home"
    (user_home / ".aws").mkdir(parents=True)
    (user_home / ".aws" / "config").write_text(CONFIG)
    (user_home / ".aws" / "credentials").write_text(CREDENTIALS)
    plugin = root / "plugin"
    plugin.mkdir()
    (plugin / "fake_keyring.py").write_text(FAKE_KEYRING)
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "ASSUMER_", "XDG_", "DBUS_", "PYTHON"))}
    env.update(
        HOME=str(user_home),
        AWS_CONFIG_FILE=str(user_home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(user_home / ".aws" / "credentials"),
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # discard port: nothing listens
        AWS_EC2_METADATA_DISABLED="true",
        ASSUMER_MAX_ATTEMPTS="1",
        XDG_RUNTIME_DIR=str(runtime),
        XDG_STATE_HOME=str(user_home / ".local" / "state"),
        XDG_CACHE_HOME=str(user_home / ".cache"),
        XDG_CONFIG_HOME=str(user_home / ".config"),
        PYTHONPATH=os.pathsep.join([str(plugin), str(Path(__file__).resolve().parents[2])]),
        PYTHON_KEYRING_BACKEND="fake_keyring.Keyring",
        FAKE_KEYRING=str(root / "keyring.json"),
        PYTHONDONTWRITEBYTECODE="1",
        LC_ALL="C.UTF-8",
    )
    return Home(root, user_home, root / "keyring.json", env)


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Exactly one ``assumer: error:`` line on stderr, nothing on stdout, the given exit code."""
    lines = result.stderr.splitlines()
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assumer: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# (arguments, stdin, exit code, words the one line must hold)
CASES = {
    "unknown profile suggests the closest names": (["env", "rmf"], "", 3, ["unknown profile 'rmf'", "rmfa"]),
    "unknown profile, nothing close, names the file": (["env", "zzzzzz"], "", 3, ["unknown profile", "config"]),
    "unknown profile for credential-process": (["credential-process", "loop"], "", 3, ["loop1"]),
    "role ARN that is not an ARN": (["env", "--source-profile", "u", "arn:not-an-arn"], "", 3,
                                    ["arn:not-an-arn", "not a role ARN"]),
    "role ARN of the wrong kind": (["env", "--source-profile", "u", "arn:aws:iam::123456789012:user/U"], "", 3,
                                   ["not a role ARN"]),
    "role ARN without --source-profile": (["env", ROLE_R], "", 3, ["--source-profile"]),
    "--source-profile without a role ARN": (["env", "--source-profile", "u", "r"], "", 3, ["role ARN"]),
    "bad role ARN in the config names file and line": (["env", "badarn"], "", 3, ["config:", "not a role ARN"]),
    "source_profile loop": (["env", "loop1"], "", 3, ["loop1 -> loop2 -> loop3 -> loop1"]),
    "source_profile that does not exist": (["env", "ghost"], "", 3, ["'missing'"]),
    "role_arn without a source": (["env", "nosource"], "", 3, ["source_profile"]),
    "unsupported credential_source": (["env", "ec2"], "", 3, ["Ec2InstanceMetadata"]),
    "credential_process that cannot be started": (["env", "noprog"], "", 3,
                                                  ["credential_process of profile 'noprog' cannot be run"]),
    "credential_process that prints no JSON": (["env", "notjson"], "", 3, ["did not print credential_process JSON"]),
    "credential_process that prints bytes that are not text (never quoted)": (
        ["env", "binary"], "", 3, ["did not print credential_process JSON"]),
    "neither role_arn nor credentials": (["env", "bare"], "", 3, ["'bare'", "neither role_arn nor credentials",
                                                                  "assumer add bare"]),
    "--duration below 900": (["env", "r", "--duration", "100"], "", 3, ["--duration", "900..43200"]),
    "--duration above 43200": (["env", "r", "--duration", "50000"], "", 3, ["--duration", "900..43200"]),
    "duration_seconds above 43200 in the config": (["env", "longrole"], "", 3, ["config:", "99999"]),
    "duration_seconds not a number": (["env", "wordy"], "", 3, ["config:", "an hour"]),
    "role_session_name not valid": (["env", "badname"], "", 3, ["config:", "role_session_name"]),
    "MFA code not 6 digits, profile with MFA": (["env", "rmfa", "--mfa-code", "12ab"], "", 3, ["6 digits"]),
    "MFA code not 6 digits, profile without MFA": (["env", "r", "--mfa-code", "12ab"], "", 3, ["6 digits"]),
    "MFA code too long": (["credential-process", "rmfa", "--mfa-code", "1234567"], "", 3, ["6 digits"]),
    "MFA code from empty stdin": (["env", "rmfa", "--mfa-code", "-"], "", 3, ["stdin"]),
    "MFA code from stdin not 6 digits": (["env", "rmfa", "--mfa-code", "-"], "12 34 56\n", 3, ["6 digits"]),
    "empty stdin for add": (["add", "u"], "", 3, ["no keys given", "'u'"]),
    "one line only for add": (["add", "u"], "AKIAIOSFODNN7EXAMPLE\n", 3, ["no keys given"]),
    "not a key ID for add": (["add", "u"], "hello world\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", 3,
                             ["not an access key ID"]),
    "keys in the wrong order for add (nothing of the secret is quoted)": (
        ["add", "u"], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nAKIAIOSFODNN7EXAMPLE\n", 3,
        ["not an access key ID", "(40 characters)"]),
    "secret with white space for add": (["add", "u"], "AKIAIOSFODNN7EXAMPLE\nshort secret that is long\n", 3,
                                        ["secret access key"]),
    "remove keys that were never stored": (["remove", "u"], "", 5, ["no keys stored"]),
    "invalid --region": (["env", "r", "--region", "not a region!"], "", 3, ["region"]),
    "policy --account not 12 digits": (["policy", "--account", "12345"], "", 3,
                                       ["assumer: error: --account '12345' is not an AWS account id"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_one_line_documented_code_nothing_written(home: Home, case: str) -> None:
    args, stdin, code, needles = CASES[case]
    before = home.snapshot()
    result = home.run(args, input=stdin)
    assert_one_error_line(result, code, *needles)
    assert SECRET[:4] not in result.stderr + result.stdout  # nothing of U's secret key is quoted
    assert home.snapshot() == before, "the failed command wrote or changed a file"
    assert not home.keyring_file.exists()


def test_unknown_shell_is_a_click_usage_error(home: Home) -> None:
    before = home.snapshot()
    result = home.run(["env", "r", "--shell", "tcsh"])
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--shell': 'tcsh' is not one of "
        "'bash', 'zsh', 'fish', 'powershell', 'dotenv', 'json'.")
    assert home.snapshot() == before


@pytest.mark.parametrize("where,text,line", [
    ("config", "[profile u]\nregion = x\n[profile r\nrole_arn = x\n", 3),
    ("config", "region = x\n[profile r]\n", 1),
    ("config", "[profile u]\nregion = x\n[profile r]\nrole_arn\n", 4),
    ("credentials", "[u]\naws_access_key_id = A\n\nnot a setting\n", 4),
])
def test_malformed_file_names_file_and_line(home: Home, where: str, text: str, line: int) -> None:
    path = home.home / ".aws" / where
    path.write_text(text)
    before = home.snapshot()
    result = home.run(["env", "u" if where == "credentials" else "r"])
    assert_one_error_line(result, 3, f"{path}:{line}:")
    assert home.snapshot() == before


def test_malformed_line_in_another_profile_is_reported_with_its_line(home: Home) -> None:
    """botocore parses the whole file when it builds a client: its failure is still exit 3 with the line."""
    config = home.home / ".aws" / "config"
    config.write_text(CONFIG + "\n[profile other]\nthis line is garbage\n")
    line = len(config.read_text().splitlines())
    result = home.run(["env", "r"])
    assert_one_error_line(result, 3, f"{config}", f"{line}")
    assert not home.keyring_file.exists()


def test_config_file_that_is_not_utf8(home: Home) -> None:
    (home.home / ".aws" / "config").write_bytes(b"[profile r]\nregion = \xff\xfe\n")
    result = home.run(["env", "r"])
    assert_one_error_line(result, 3, "config")


def test_config_file_that_is_a_directory(home: Home) -> None:
    config = home.home / ".aws" / "config"
    config.unlink()
    config.mkdir()
    result = home.run(["list"])
    assert_one_error_line(result, 3, str(config))


def test_invalid_endpoint_url(home: Home) -> None:
    home.env["AWS_ENDPOINT_URL"] = "not a url"
    result = home.run(["env", "r"])
    assert_one_error_line(result, 3, "not a url")
    assert not home.keyring_file.exists()


def test_add_then_bad_input_leaves_the_stored_keys_alone(home: Home) -> None:
    """A failed add must not overwrite keys that are already there."""
    good = home.run(["add", "u"], input=f"AKIAIOSFODNN7EXAMPLE\n{SECRET}\n")
    assert good.returncode == 0, good.stderr
    stored = home.keyring_file.read_text()
    result = home.run(["add", "u"], input="")
    assert_one_error_line(result, 3, "no keys given")
    assert home.keyring_file.read_text() == stored


@pytest.mark.parametrize("bad_line", [f"aws_secret_access_key {SECRET}", SECRET, f"[u {SECRET}"])
def test_malformed_line_holding_a_secret_is_not_echoed(home: Home, bad_line: str) -> None:
    """The error names file and line, but a line with a secret key on it is masked."""
    credentials = home.home / ".aws" / "credentials"
    credentials.write_text(f"[u]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n{bad_line}\n")
    result = home.run(["env", "u"])
    line = assert_one_error_line(result, 3, f"{credentials}:3:")
    assert SECRET not in line
    assert SECRET[:16] not in line


def test_malformed_line_with_a_secret_seen_by_botocore_is_not_echoed(home: Home) -> None:
    """The same through botocore's parser (a line in another profile of the config file)."""
    config = home.home / ".aws" / "config"
    config.write_text(CONFIG + f"\n[profile other]\naws_secret_access_key {SECRET}\n")
    result = home.run(["env", "r"])
    line = assert_one_error_line(result, 3, f"{config}:")
    assert SECRET[:16] not in line


@pytest.mark.parametrize("variable,value", [
    ("ASSUMER_READ_TIMEOUT", "abc"), ("ASSUMER_CONNECT_TIMEOUT", "-1"), ("ASSUMER_MAX_ATTEMPTS", "0"),
    ("ASSUMER_MAX_ATTEMPTS", "x"), ("ASSUMER_READ_TIMEOUT", "nan"),
])
def test_bad_time_bound_settings_are_config_errors(home: Home, variable: str, value: str) -> None:
    home.env[variable] = value
    before = home.snapshot()
    line = assert_one_error_line(home.run(["env", "r"]), 3, variable)
    assert repr(value) in line
    assert home.snapshot() == before


def run_with_closed(home: Home, args: list[str], *fds: int) -> subprocess.CompletedProcess[str]:
    """Run assumer with some of its standard descriptors closed (``<&-``, ``>&-``)."""
    def close() -> None:
        for fd in fds:
            os.close(fd)

    return subprocess.run([sys.executable, "-m", "assumer", *args], env=home.env, cwd=home.home,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, preexec_fn=close)


@pytest.mark.parametrize("args,needle", [(["add", "u"], "no keys given"),
                                         (["env", "rmfa", "--mfa-code", "-"], "stdin")])
def test_closed_stdin_is_empty_input(home: Home, args: list[str], needle: str) -> None:
    before = home.snapshot()
    assert_one_error_line(run_with_closed(home, args, 0), 3, needle)
    assert home.snapshot() == before


@pytest.mark.parametrize("args", [["list"], ["env", "--unset"], ["--version"]])
def test_closed_stdout_is_not_a_crash(home: Home, args: list[str]) -> None:
    result = run_with_closed(home, args, 1)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


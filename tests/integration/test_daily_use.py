"""Daily-use defaults, as a user meets them: real processes and shells against the emulator."""

from __future__ import annotations

import pytest

from tests.tools.awshome import AwsHome


@pytest.mark.parametrize("typed, seconds", [("1h30m", "5400"), ("90m", "5400"), ("2700s", "2700"), ("1h", "3600")])
def test_duration_as_people_type_it_reaches_sts_in_seconds(aws_home: AwsHome, typed: str, seconds: str) -> None:
    result = aws_home.run(["env", "r", "--duration", typed])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.params("AssumeRole")[-1]["DurationSeconds"] == seconds


def test_duration_outside_the_sts_range_is_still_a_bad_value(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "r", "--duration", "13h"])
    assert result.returncode == 3
    assert "duration 46800 is outside 900..43200 seconds" in result.stderr
    assert aws_home.proxy.count("AssumeRole") == 0


@pytest.mark.parametrize("command", ["env", "whoami"])
def test_no_profile_and_no_terminal_lists_the_profiles_exit_2(aws_home: AwsHome, command: str) -> None:
    result = aws_home.run([command])
    assert result.returncode == 2
    assert result.stdout == ""
    assert "profiles: u, r, r2" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_whoami_defaults_to_the_profile_in_use(aws_home: AwsHome, shell: str) -> None:
    load = "assumer env r --shell fish | source" if shell == "fish" else 'eval "$(assumer env r)"'
    result = aws_home.shell(shell, f"{load}\nassumer whoami\n")
    assert result.returncode == 0, result.stderr
    assert "Profile:  r\n" in result.stdout and ":assumed-role/R/" in result.stdout


def test_whoami_without_profile_ignores_keys_exported_by_hand(aws_home: AwsHome) -> None:
    # ASSUMER_PROFILE alone is not "in use": the keys in the environment are someone else's.
    result = aws_home.run(["whoami"], env_extra={"ASSUMER_PROFILE": "r", "AWS_ACCESS_KEY_ID": "AKIAHANDEXPORTED0000",
                                                 "ASSUMER_KEY_ID": "ASIAOLDSESSION000000"})
    assert result.returncode == 2
    assert "no session of assumer's is in use" in result.stderr


def test_exec_without_a_command_says_what_the_subshell_holds(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r"], input='echo "in:$ASSUMER_PROFILE"; exit 7\n', env_extra={"SHELL": "/bin/sh"})
    assert result.returncode == 7
    assert result.stdout == "in:r\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("assumer: starting sh with the credentials of profile 'r', expiring ")
    assert lines[0].endswith("; 'exit' leaves it") and "nested" not in lines[0]


def test_a_nested_subshell_says_so(aws_home: AwsHome) -> None:
    script = 'eval "$(assumer env r)"\necho exit | assumer exec r2\n'
    result = aws_home.shell("bash", script, env_extra={"SHELL": "/bin/sh"})
    assert result.returncode == 0, result.stderr
    assert "with the credentials of profile 'r2'" in result.stderr
    assert "nested inside the session of 'r'" in result.stderr


def test_a_command_given_to_exec_starts_without_a_message(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r", "--", "true"])
    assert result.returncode == 0
    assert result.stderr == ""

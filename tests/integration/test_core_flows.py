"""The user flows of the credential core, run as a user runs them.

Real shells, the ``assumer`` console script and the AWS CLI from the venv, moto behind
the recording proxy, and the Secret Service of tests/run.sh (see tests/integration/conftest.py).

Elsewhere: many cold callers at once in test_concurrency.py, exec's failures (126,
127 for a command not on PATH) in test_faults.py, hostile profile names in every
shell in test_quoting_shells.py.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.secret_service import keyring_items

ASSUMED_R = "assumed-role/R/"
WHOAMI = "aws sts get-caller-identity --output text --query Arn"


def exported(aws_home: AwsHome, profile: str, *args: str, **kwargs) -> dict[str, str]:
    """The variables ``assumer env PROFILE`` sets, read from its JSON rendering."""
    result = aws_home.run(["env", profile, "--shell", "json", *args], **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("shell, script", [
    ("bash", f'eval "$(assumer env r)" && {WHOAMI}'),
    ("bash", f"eval $(assumer env r) && {WHOAMI}"),
    ("zsh", f'eval "$(assumer env r)" && {WHOAMI}'),
    ("zsh", f"eval $(assumer env r) && {WHOAMI}"),
    ("fish", f"assumer env r | source; {WHOAMI}"),
])
def test_eval_env_then_aws_cli_names_the_role(aws_home: AwsHome, shell: str, script: str) -> None:
    result = aws_home.shell(shell, script)
    assert result.returncode == 0, result.stderr
    assert ASSUMED_R in result.stdout
    assert aws_home.proxy.count("AssumeRole") == 1


def test_fish_source_succeeds_so_and_chains_work(aws_home: AwsHome) -> None:
    """``assumer env r | source; and cmd`` is fish's ``eval ... && cmd``."""
    result = aws_home.shell("fish", "assumer env r | source; and echo sourced")
    assert (result.returncode, result.stdout) == (0, "sourced\n"), result.stderr


def test_env_sets_the_documented_variables_and_drops_aws_profile(aws_home: AwsHome) -> None:
    script = 'eval "$(assumer env r)"; env'
    result = aws_home.shell("bash", script, env_extra={"AWS_PROFILE": "u", "AWS_DEFAULT_PROFILE": "u"})
    assert result.returncode == 0, result.stderr
    names = {line.split("=", 1)[0] for line in result.stdout.splitlines() if "=" in line}
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
            "AWS_CREDENTIAL_EXPIRATION", "AWS_REGION", "AWS_DEFAULT_REGION",
            "ASSUMER_PROFILE", "ASSUMER_EXPIRATION"} <= names
    assert not names & {"AWS_PROFILE", "AWS_DEFAULT_PROFILE"}


def test_env_unset_removes_what_env_set(aws_home: AwsHome) -> None:
    script = 'eval "$(assumer env r)"; eval "$(assumer env --unset)"; env'
    result = aws_home.shell("bash", script)
    assert result.returncode == 0, result.stderr
    assert "AWS_SECRET_ACCESS_KEY=" not in result.stdout
    assert "ASSUMER_PROFILE=" not in result.stdout


def test_stdout_of_env_is_only_shell_code(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "r", "--shell", "bash"])
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert line.startswith(("export ", "unset ")), line


def test_second_env_is_served_from_the_cache(aws_home: AwsHome) -> None:
    first = exported(aws_home, "r")
    second = exported(aws_home, "r")
    assert aws_home.proxy.count("AssumeRole") == 1
    assert second["AWS_ACCESS_KEY_ID"] == first["AWS_ACCESS_KEY_ID"]
    whoami = aws_home.run(["whoami", "r"])
    assert whoami.returncode == 0, whoami.stderr
    assert ASSUMED_R in whoami.stdout
    assert "cached" in whoami.stdout.lower()
    assert aws_home.proxy.count("AssumeRole") == 1


def test_cold_whoami_says_fresh(aws_home: AwsHome) -> None:
    whoami = aws_home.run(["whoami", "r"])
    assert whoami.returncode == 0, whoami.stderr
    assert "fresh" in whoami.stdout.lower()
    assert aws_home.world.account in whoami.stdout


def test_refresh_assumes_again(aws_home: AwsHome) -> None:
    first = exported(aws_home, "r")
    refreshed = exported(aws_home, "r", "--refresh")
    assert aws_home.proxy.count("AssumeRole") == 2
    assert refreshed["AWS_ACCESS_KEY_ID"] != first["AWS_ACCESS_KEY_ID"]
    # the refreshed session replaced the cached one
    assert exported(aws_home, "r")["AWS_ACCESS_KEY_ID"] == refreshed["AWS_ACCESS_KEY_ID"]
    assert aws_home.proxy.count("AssumeRole") == 2


def test_no_cache_assumes_every_time_and_stores_nothing(aws_home: AwsHome) -> None:
    for expected in (1, 2, 3):
        exported(aws_home, "r", "--no-cache")
        assert aws_home.proxy.count("AssumeRole") == expected
    assert keyring_items("assumer") == []


def test_credential_process_profile_consumed_by_the_aws_cli(aws_home: AwsHome) -> None:
    aws_home.add_config(f"[profile viaproc]\ncredential_process = {aws_home.assumer} "
                        "credential-process r\nregion = ap-northeast-1\n")
    result = aws_home.command(["aws", "sts", "get-caller-identity", "--profile", "viaproc",
                               "--output", "json"])
    assert result.returncode == 0, result.stderr
    assert ASSUMED_R in json.loads(result.stdout)["Arn"]


def test_credential_process_consumed_by_boto3(aws_home: AwsHome) -> None:
    aws_home.add_config("[profile viaproc]\ncredential_process = assumer credential-process r\n")
    code = "import boto3; print(boto3.Session(profile_name='viaproc').client('sts')" \
           ".get_caller_identity()['Arn'])"
    result = aws_home.command(["python", "-c", code], env_extra={"AWS_DEFAULT_REGION": "ap-northeast-1"})
    assert result.returncode == 0, result.stderr
    assert ASSUMED_R in result.stdout


# -- exec ---------------------------------------------------------------------------------


def test_exec_runs_the_aws_cli_with_the_role(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r", "--", *WHOAMI.split()])
    assert result.returncode == 0, result.stderr
    assert ASSUMED_R in result.stdout


def test_exec_passes_the_exit_status_through(aws_home: AwsHome) -> None:
    assert aws_home.run(["exec", "r", "--", "sh", "-c", "exit 7"]).returncode == 7


def test_exec_of_a_path_that_does_not_exist_exits_127(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r", "--", "/nonexistent"])
    assert result.returncode == 127
    assert "/nonexistent" in result.stderr


def test_exec_child_environment(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r", "--", "env"], env_extra={"AWS_PROFILE": "u"})
    assert result.returncode == 0, result.stderr
    variables = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert variables["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert variables.get("AWS_SESSION_TOKEN")
    assert "AWS_PROFILE" not in variables
    assert variables.get("ASSUMER_PROFILE") == "r"


def test_exec_accepts_session_options_after_the_profile(aws_home: AwsHome) -> None:
    """``assumer exec r --duration 1800 -- cmd``: the options end at ``--``, as for ``env``."""
    result = aws_home.run(["exec", "r", "--duration", "1800", "--", "sh", "-c", "exit 0"])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.params("AssumeRole")[-1]["DurationSeconds"] == "1800"


def test_exec_without_a_command_runs_the_users_shell(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r"], input='echo "in:$ASSUMER_PROFILE"\n',
                          env_extra={"SHELL": "/bin/sh"})
    assert result.returncode == 0, result.stderr
    assert "in:r" in result.stdout


def test_exec_arguments_reach_the_command_unchanged(aws_home: AwsHome) -> None:
    hostile = ["--profile", "$(echo pwned)", "a b", "'quoted'", ""]
    result = aws_home.run(["exec", "r", "--", "python", "-c",
                           "import json, sys; print(json.dumps(sys.argv[1:]))", *hostile])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == hostile


# -- nesting ------------------------------------------------------------------------------


def test_env_r2_inside_exec_r_names_r2(aws_home: AwsHome) -> None:
    result = aws_home.run(["exec", "r", "--", "sh", "-c", f'eval "$(assumer env r2)" && {WHOAMI}'])
    assert result.returncode == 0, result.stderr
    assert "assumed-role/R2/" in result.stdout


def test_env_r2_after_eval_of_env_r_names_r2(aws_home: AwsHome) -> None:
    script = f'eval "$(assumer env r)" && eval "$(assumer env r2)" && {WHOAMI}'
    result = aws_home.shell("bash", script)
    assert result.returncode == 0, result.stderr
    assert "assumed-role/R2/" in result.stdout


def test_refresh_of_r_inside_exec_r_uses_u_not_the_exported_session(aws_home: AwsHome) -> None:
    """R trusts U only, so assuming R with R's exported session would be denied by moto."""
    result = aws_home.run(["exec", "r", "--", "assumer", "env", "r", "--refresh"])
    assert result.returncode == 0, result.stderr
    signers = {r.access_key_id for r in aws_home.proxy.requests("AssumeRole")}
    assert signers == {aws_home.world.u.access_key_id}


def test_r2_inside_exec_r_is_signed_by_rs_configured_chain(aws_home: AwsHome) -> None:
    """With r's cache cleared inside, R2 must be assumed from a new R session, not the exported one."""
    script = 'assumer clear r >&2 && assumer env r2 --shell json && echo "$AWS_ACCESS_KEY_ID" >&2'
    result = aws_home.run(["exec", "r", "--", "sh", "-c", script])
    assert result.returncode == 0, result.stderr
    exported_key = result.stderr.strip().splitlines()[-1]
    by_role = {}
    for request in aws_home.proxy.requests("AssumeRole"):
        by_role.setdefault(request.params["RoleArn"], []).append(request.access_key_id)
    assert by_role[aws_home.world.role_r] == [aws_home.world.u.access_key_id] * 2
    (r2_signer,) = by_role[aws_home.world.role_r2]
    assert r2_signer.startswith("ASIA") and r2_signer != exported_key


def test_keys_exported_by_hand_are_used_with_credential_source_environment(
        aws_home: AwsHome) -> None:
    aws_home.add_role_profile("fromenv", "credential_source = Environment", source=None)
    keys = aws_home.world.u_second
    # Exported after an assumer session, as a user would do by hand on top of it.
    script = (f'eval "$(assumer env r)" && export AWS_ACCESS_KEY_ID={keys.access_key_id} '
              f'AWS_SECRET_ACCESS_KEY={keys.secret_access_key} && unset AWS_SESSION_TOKEN && '
              f'eval "$(assumer env fromenv)" && {WHOAMI}')
    result = aws_home.shell("bash", script)
    assert result.returncode == 0, result.stderr
    assert ASSUMED_R in result.stdout
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == keys.access_key_id


def test_credential_source_environment_without_keys_fails_cleanly(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("fromenv", "credential_source = Environment", source=None, region=None)
    result = aws_home.run(["env", "fromenv"])
    assert result.returncode in (3, 4), result.stderr
    assert "Traceback" not in result.stderr
    assert aws_home.proxy.count("AssumeRole") == 0


def test_nothing_written_to_the_aws_cli_cache(aws_home: AwsHome) -> None:
    assert aws_home.run(["exec", "r", "--", *WHOAMI.split()]).returncode == 0
    assert not (aws_home.home / ".aws" / "cli").exists()
    assert sorted(os.listdir(aws_home.home / ".aws")) == ["config", "credentials"]

"""The session cache and long-term keys in the real Secret Service, and secrets on disk."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import AwsHome, files_containing, keyring_items, keyring_secret

NO_BUS = {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"}


def session(aws_home: AwsHome, profile: str = "r", *args: str, **kwargs) -> dict[str, str]:
    result = aws_home.run(["env", profile, "--shell", "json", *args], **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def add_keys(aws_home: AwsHome, profile: str, key_id: str, secret: str):
    return aws_home.run(["add", profile], input=f"{key_id}\n{secret}\n")


def test_session_lives_in_the_keyring_under_service_assumer(aws_home: AwsHome) -> None:
    secret = session(aws_home)["AWS_SECRET_ACCESS_KEY"]
    items = keyring_items("assumer")
    assert len(items) >= 1
    stored = [keyring_secret("assumer", item["username"]) for item in items]
    assert any(secret.encode() in value for value in stored if value)


def test_list_shows_the_cached_profile_and_never_a_secret(aws_home: AwsHome) -> None:
    variables = session(aws_home)
    result = aws_home.run(["list"])
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.split()[:1] == ["r"])
    assert aws_home.world.role_r in line
    assert "min" in line or ":" in line  # an expiry, however rendered
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"):
        assert variables[name] not in result.stdout + result.stderr


def test_clear_profile_forces_a_new_assume(aws_home: AwsHome) -> None:
    session(aws_home)
    result = aws_home.run(["clear", "r"])
    assert result.returncode == 0, result.stderr
    assert keyring_items("assumer") == []
    session(aws_home)
    assert aws_home.proxy.count("AssumeRole") == 2


def test_clear_all_keeps_long_term_keys(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    assert add_keys(aws_home, "u", keys.access_key_id, keys.secret_access_key).returncode == 0
    session(aws_home)
    assert aws_home.run(["clear", "--all"]).returncode == 0
    assert keyring_items("assumer") == []
    assert len(keyring_items("assumer-keys")) == 1


def test_added_keys_are_used_and_take_precedence_over_the_credentials_file(
        aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    result = add_keys(aws_home, "u", keys.access_key_id, keys.secret_access_key)
    assert result.returncode == 0, result.stderr
    session(aws_home)
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == keys.access_key_id


def test_add_then_remove_keys_of_a_new_profile(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    aws_home.add_config(f"[profile vault]\nregion = ap-northeast-1\n\n[profile rv]\n"
                        f"role_arn = {aws_home.world.role_r}\nsource_profile = vault\n"
                        "region = ap-northeast-1\n")
    assert add_keys(aws_home, "vault", keys.access_key_id, keys.secret_access_key).returncode == 0
    assert keys.secret_access_key not in aws_home.config_file.read_text()
    result = aws_home.run(["exec", "rv", "--", "aws", "sts", "get-caller-identity",
                           "--query", "Arn", "--output", "text"])
    assert result.returncode == 0, result.stderr
    assert "assumed-role/R/" in result.stdout
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == keys.access_key_id

    removed = aws_home.run(["remove", "vault"])
    assert removed.returncode == 0, removed.stderr
    assert keyring_items("assumer-keys") == []
    after = aws_home.run(["env", "rv", "--no-cache"])
    assert after.returncode in (3, 4), after.stderr


def test_remove_of_unknown_keys_fails(aws_home: AwsHome) -> None:
    result = aws_home.run(["remove", "never-added"])
    assert result.returncode != 0
    assert "never-added" in result.stderr


def test_corrupt_cache_entry_is_replaced_with_one_warning(aws_home: AwsHome) -> None:
    import secretstorage

    session(aws_home)
    connection = secretstorage.dbus_init()
    try:
        for item in secretstorage.search_items(connection, {"service": "assumer"}):
            item.set_secret(b"{not json")
    finally:
        connection.close()
    result = aws_home.run(["env", "r"])
    assert result.returncode == 0, result.stderr
    assert aws_home.proxy.count("AssumeRole") == 2
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1, result.stderr
    session(aws_home)  # the replacement is a good entry
    assert aws_home.proxy.count("AssumeRole") == 2


def test_min_ttl_above_the_session_lifetime_forces_refresh(aws_home: AwsHome) -> None:
    session(aws_home, "r", "--duration", "900")
    session(aws_home, "r", "--duration", "900", env_extra={"ASSUMER_MIN_TTL": "1000"})
    assert aws_home.proxy.count("AssumeRole") == 2


def test_cache_hit_imports_neither_boto3_nor_botocore(aws_home: AwsHome) -> None:
    session(aws_home)
    result = aws_home.run(["env", "r"], env_extra={"PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "assumer" in imported  # the profiling really is on
    assert not imported & {"boto3", "botocore"}


def test_without_a_keyring_env_still_works_and_says_so(aws_home: AwsHome) -> None:
    result = aws_home.run(["env", "r"], env_extra=NO_BUS)
    assert result.returncode == 0, result.stderr
    assert "keyring" in result.stderr.lower()
    assert "export AWS_ACCESS_KEY_ID=" in result.stdout
    again = aws_home.run(["env", "r"], env_extra=NO_BUS)
    assert again.returncode == 0
    assert aws_home.proxy.count("AssumeRole") == 2  # nothing could be cached


def test_without_a_keyring_add_and_remove_exit_5(aws_home: AwsHome) -> None:
    keys = aws_home.world.u_second
    added = aws_home.run(["add", "u"], input=f"{keys.access_key_id}\n{keys.secret_access_key}\n",
                         env_extra=NO_BUS)
    assert added.returncode == 5, added.stderr
    assert aws_home.run(["remove", "u"], env_extra=NO_BUS).returncode == 5


def test_no_session_secret_on_disk_after_the_flows(aws_home: AwsHome) -> None:
    """After env, exec, credential-process and the AWS CLI: nothing under HOME or /tmp."""
    variables = session(aws_home)
    aws_home.add_config("[profile viaproc]\ncredential_process = assumer credential-process r\n")
    steps = [
        ["bash", "-c", 'eval "$(assumer env r)" && aws sts get-caller-identity'],
        ["assumer", "exec", "r", "--", "aws", "sts", "get-caller-identity"],
        ["assumer", "credential-process", "r"],
        ["aws", "sts", "get-caller-identity", "--profile", "viaproc", "--region", "ap-northeast-1"],
        ["assumer", "list"],
        ["assumer", "whoami", "r"],
    ]
    for argv in steps:
        result = aws_home.command(argv)
        assert result.returncode == 0, (argv, result.stderr)
    secret = variables["AWS_SECRET_ACCESS_KEY"]
    roots = [aws_home.home, Path("/tmp")]
    assert files_containing(secret, *roots) == []
    assert files_containing(variables["AWS_SESSION_TOKEN"][:64], *roots) == []

"""The session cache and long-term keys in the real Secret Service.

Elsewhere: a corrupt or foreign cache entry and a keyring that cannot be used are in
test_faults.py, what a cache hit imports in test_hotpath.py, secrets on disk after
every flow in test_hygiene.py.
"""

from __future__ import annotations

import json

from tests.tools.awshome import AwsHome
from tests.tools.secret_service import keyring_items, keyring_secret


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
    aws_home.add_config("[profile vault]\nregion = ap-northeast-1\n")
    aws_home.add_role_profile("rv", source="vault")
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


def test_min_ttl_above_the_session_lifetime_warns_and_the_renewal_rule_serves_half(aws_home: AwsHome) -> None:
    """Issue 10: min(ASSUMER_MIN_TTL, lifetime / 2): a fresh 900 s session is served, with one warning."""
    session(aws_home, "r", "--duration", "900")
    result = aws_home.run(["env", "r", "--duration", "900", "--shell", "json"], env_extra={"ASSUMER_MIN_TTL": "1000"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("ASSUMER_MIN_TTL=1000 is not shorter than this session's lifetime") == 1
    assert aws_home.proxy.count("AssumeRole") == 1

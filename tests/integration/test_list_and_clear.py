"""``assumer list`` says what people look for (never a secret), and ``clear`` of a typo says so."""

from __future__ import annotations

import json

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.moto_server import REGION


def listing(aws_home: AwsHome) -> dict[str, dict[str, object]]:
    result = aws_home.run(["list", "--json"])
    assert result.returncode == 0, result.stderr
    return {row["profile"]: row for row in json.loads(result.stdout)}


def test_json_describes_each_profile(aws_home: AwsHome) -> None:
    aws_home.add_config(f"[profile mfa]\nregion = eu-west-1\nmfa_serial = {MFA_SERIAL}\n"
                        "[profile proc]\ncredential_process = /bin/false\n")
    assert aws_home.run(["env", "r"]).returncode == 0
    rows = listing(aws_home)
    assert rows["u"] == {"profile": "u", "kind": "keys:file", "role_arn": None, "source": None, "region": REGION,
                         "mfa_serial": None, "keys_in_keyring": False, "session_expires": None,
                         "session_minutes_left": None}
    assert rows["r"]["kind"] == "role" and rows["r"]["role_arn"] == aws_home.world.role_r
    assert rows["r"]["source"] == "u" and rows["r"]["session_minutes_left"] in (59, 60)
    assert rows["r2"]["source"] == "r" and rows["r2"]["session_expires"] is None
    assert rows["mfa"]["mfa_serial"] == MFA_SERIAL and rows["mfa"]["region"] == "eu-west-1"
    assert rows["proc"]["kind"] == "credential_process"


def test_keys_stored_with_add_are_listed_until_remove(aws_home: AwsHome) -> None:
    u = aws_home.world.u
    assert aws_home.run(["add", "u"], input=f"{u.access_key_id}\n{u.secret_access_key}\n").returncode == 0
    assert listing(aws_home)["u"]["kind"] == "keys:keyring+file"
    assert aws_home.run(["env", "r"]).returncode == 0  # a session made from them does not hide them
    assert aws_home.run(["clear", "--all"]).returncode == 0  # nor does clearing sessions
    assert listing(aws_home)["u"]["keys_in_keyring"] is True
    assert aws_home.run(["remove", "u"]).returncode == 0
    assert listing(aws_home)["u"]["kind"] == "keys:file"


def test_the_table_has_the_columns_and_no_secret(aws_home: AwsHome) -> None:
    exported = json.loads(aws_home.run(["env", "r", "--shell", "json"]).stdout)
    result = aws_home.run(["list"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PROFILE", "KIND", "ROLE", "SOURCE", "REGION", "MFA", "SESSION"]
    r = next(line for line in lines if line.split()[0] == "r").split()
    assert r[:6] == ["r", "role", aws_home.world.role_r, "u", REGION, "-"] and r[-1] == "left"
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert exported[name] not in result.stdout + result.stderr


def test_clear_of_a_name_that_is_nothing_is_exit_3_with_the_closest_names(aws_home: AwsHome) -> None:
    result = aws_home.run(["clear", "rr"])
    assert result.returncode == 3
    assert "unknown profile 'rr'" in result.stderr and "r" in result.stderr.split("did you mean", 1)[1]


def test_clear_of_a_known_profile_with_nothing_cached_is_fine(aws_home: AwsHome) -> None:
    result = aws_home.run(["clear", "r"])
    assert result.returncode == 0
    assert "nothing cached to clear" in result.stderr


def test_clear_of_a_profile_gone_from_the_config_still_clears_its_sessions(aws_home: AwsHome) -> None:
    aws_home.add_role_profile("gone")
    assert aws_home.run(["env", "gone"]).returncode == 0
    aws_home.write_config(aws_home.config_file.read_text().replace("[profile gone]", "[profile renamed]"))
    result = aws_home.run(["clear", "gone"])
    assert result.returncode == 0, result.stderr
    assert "cleared cached sessions for: gone" in result.stderr

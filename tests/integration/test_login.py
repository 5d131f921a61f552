"""``assumer login``: a console sign-in URL from the profile's session, against a stand-in
federation endpoint that checks requests the way AWS documents them (moto has none)."""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.moto_server import REGION
from tests.tools.signin import SigninStandIn

NO_GUI = {"DISPLAY": None, "WAYLAND_DISPLAY": None, "BROWSER": None}


@pytest.fixture
def signin() -> Iterator[SigninStandIn]:
    with SigninStandIn() as stand_in:
        yield stand_in


def login(aws_home: AwsHome, signin: SigninStandIn, *args: str,
          **env: str | None) -> subprocess.CompletedProcess[str]:
    return aws_home.run(["login", *args], env_extra={**NO_GUI, "ASSUMER_FEDERATION_URL": signin.url, **env})


def login_params(url: str, signin: SigninStandIn) -> dict[str, str]:
    split = urllib.parse.urlsplit(url.strip())
    assert f"{split.scheme}://{split.netloc}{split.path}" == signin.url
    return dict(urllib.parse.parse_qsl(split.query))


def test_print_gives_a_login_url_from_the_cached_role_session(aws_home: AwsHome, signin: SigninStandIn) -> None:
    exported = json.loads(aws_home.run(["env", "r", "--shell", "json"]).stdout)
    result = login(aws_home, signin, "r", "--print")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    params = login_params(result.stdout, signin)
    assert params == {"Action": "login", "Issuer": "assumer", "SigninToken": "stand-in-token-1",
                      "Destination": f"https://console.aws.amazon.com/console/home?region={REGION}"}
    [request] = signin.requests
    assert request.problem == ""
    # The role session, served from the keyring cache: the one `env` exported, no second AssumeRole.
    assert request.session == {"sessionId": exported["AWS_ACCESS_KEY_ID"],
                               "sessionKey": exported["AWS_SECRET_ACCESS_KEY"],
                               "sessionToken": exported["AWS_SESSION_TOKEN"]}
    assert aws_home.proxy.count("AssumeRole") == 1
    # Assumed from U's long-term keys: the console session may be as long as the role's.
    assert request.params["SessionDuration"] == "3600"


def test_a_chained_session_sends_no_session_duration(aws_home: AwsHome, signin: SigninStandIn) -> None:
    result = login(aws_home, signin, "r2", "--print")
    assert result.returncode == 0, result.stderr
    [request] = signin.requests
    assert request.problem == "" and "SessionDuration" not in request.params


def test_keys_without_a_role_federate_with_an_allow_all_policy(aws_home: AwsHome, signin: SigninStandIn) -> None:
    aws_home.add_config(f"[profile adm]\nregion = {REGION}\nmfa_serial = {MFA_SERIAL}\n")
    aws_home.add_keys("adm", aws_home.world.admin)
    result = login(aws_home, signin, "adm", "--print")
    assert result.returncode == 0, result.stderr
    [federation] = aws_home.proxy.requests("GetFederationToken")
    assert federation.access_key_id == aws_home.world.admin.access_key_id
    assert json.loads(federation.params["Policy"]) == {
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    assert 2 <= len(federation.params["Name"]) <= 32 and federation.params["DurationSeconds"] == "43200"
    assert aws_home.proxy.count("GetSessionToken") == 0
    [request] = signin.requests
    assert request.problem == "" and "SessionDuration" not in request.params
    assert "does not carry over" in result.stderr and "MFA" in result.stderr  # said, not silently dropped


def test_a_browser_gets_the_url_and_stdout_stays_empty(aws_home: AwsHome, signin: SigninStandIn,
                                                       tmp_path: Path) -> None:
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{opened}'\n")
    browser.chmod(0o755)
    result = login(aws_home, signin, "r", BROWSER=str(browser))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "opened the AWS console for profile 'r'" in result.stderr
    assert login_params(opened.read_text(), signin)["SigninToken"] == "stand-in-token-1"


def test_no_graphical_session_and_no_browser_fails_naming_print(aws_home: AwsHome, signin: SigninStandIn) -> None:
    result = login(aws_home, signin, "r")
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "--print" in result.stderr
    assert aws_home.proxy.requests() == [] and signin.requests == []  # refused before any call


def test_destination_as_a_service_path(aws_home: AwsHome, signin: SigninStandIn) -> None:
    result = login(aws_home, signin, "r", "--print", "--destination", "s3")
    assert result.returncode == 0, result.stderr
    assert login_params(result.stdout, signin)["Destination"] == \
        f"https://console.aws.amazon.com/s3/home?region={REGION}"


def test_a_partition_without_a_public_endpoint_names_the_variable(aws_home: AwsHome, signin: SigninStandIn) -> None:
    aws_home.add_role_profile("iso", role=f"arn:aws-iso:iam::{aws_home.world.account}:role/R", region="us-iso-east-1")
    result = login(aws_home, signin, "iso", "--print", ASSUMER_FEDERATION_URL=None)
    assert result.returncode == 3
    assert "ASSUMER_FEDERATION_URL" in result.stderr and "aws-iso" in result.stderr
    assert aws_home.proxy.requests() == []


def test_the_endpoint_refusing_the_session_is_exit_4(aws_home: AwsHome, signin: SigninStandIn) -> None:
    signin.refuse = "the session cannot sign in"
    result = login(aws_home, signin, "r", "--print")
    assert result.returncode == 4
    assert result.stdout == ""
    assert "refused the session (HTTP 400)" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_endpoint_is_exit_6(aws_home: AwsHome, signin: SigninStandIn) -> None:
    result = login(aws_home, signin, "r", "--print", ASSUMER_FEDERATION_URL="http://127.0.0.1:9/federation")
    assert result.returncode == 6
    assert "cannot reach the federation endpoint" in result.stderr


def test_the_session_and_the_token_stay_off_stdout_and_stderr_without_print(aws_home: AwsHome,
                                                                            signin: SigninStandIn,
                                                                            tmp_path: Path) -> None:
    browser = tmp_path / "browser"
    browser.write_text("#!/bin/sh\nexit 0\n")
    browser.chmod(0o755)
    result = login(aws_home, signin, "r", BROWSER=str(browser))
    assert result.returncode == 0, result.stderr
    exported = json.loads(aws_home.run(["env", "r", "--shell", "json"]).stdout)
    for secret in (exported["AWS_SECRET_ACCESS_KEY"], exported["AWS_SESSION_TOKEN"], "stand-in-token-1"):
        assert secret not in result.stdout + result.stderr

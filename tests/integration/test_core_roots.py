"""Issue 10 end to end: the chains the AWS CLI builds, web identity and SSO roots, credential_process loops.

Against moto behind the recording proxy (tests/integration/conftest.py), the AWS CLI
of the venv as the reference, and a stand-in SSO portal (tests/tools/sso_portal.py).
The STS calls of each side are compared as the proxy saw them: the action, the role
and who signed it. moto enforces IAM and answers an unsigned
AssumeRoleWithWebIdentity with HTTP 500, so the web-identity tests let exactly one
unauthenticated request through (moto's ``reset-auth`` count) per AssumeRoleWithWebIdentity.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.moto_server import enforce_iam, role_arn
from tests.tools.net import free_port
from tests.tools.sso_portal import SsoPortal, write_token

R, R2, UNTRUSTING = role_arn("R"), role_arn("R2"), role_arn("UNTRUSTING")
START_URL = "https://corp.awsapps.example/start"
SSO_PROFILE = ("[profile ssop]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
               "region = ap-northeast-1\n[sso-session corp]\nsso_start_url = " + START_URL
               + "\nsso_region = us-east-1\n")


def sts_calls(aws_home: AwsHome) -> list[tuple[str, str, str]]:
    """(action, role, signer) of each STS call the proxy saw; the signer as U, none or a session."""
    u = aws_home.world.u.access_key_id
    calls = []
    for record in aws_home.proxy.requests():
        if record.action in ("AssumeRole", "AssumeRoleWithWebIdentity", "GetSessionToken"):
            signer = "U" if record.access_key_id == u else ("none" if not record.access_key_id else "session")
            calls.append((record.action, str(record.params.get("RoleArn", "")), signer))
    return calls


def allow_unsigned(aws_home: AwsHome, count: int) -> None:
    """Let moto take the next ``count`` requests unauthenticated (AssumeRoleWithWebIdentity is unsigned)."""
    request = urllib.request.Request(f"{aws_home.world.endpoint}/moto-api/reset-auth", data=str(count).encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture
def enforcing(aws_home: AwsHome) -> Iterator[None]:
    """IAM enforcement back on after a test that let unsigned requests through."""
    yield
    enforce_iam(aws_home.world.endpoint)


def both_sides(aws_home: AwsHome, profile: str, unsigned: int = 0) -> tuple[list[tuple[str, str, str]], ...]:
    """The STS calls of the AWS CLI and of assumer (no cache) for ``profile``, each as the proxy saw them."""
    sides = []
    for argv in (["aws", "sts", "get-caller-identity", "--profile", profile],
                 [aws_home.assumer, "env", profile, "--no-cache", "--shell", "json"]):
        if unsigned:
            allow_unsigned(aws_home, unsigned)
        aws_home.proxy.reset()
        result = aws_home.command(argv, env_extra={"AWS_DEFAULT_REGION": "ap-northeast-1"})
        assert result.returncode == 0, (argv, result.stderr)
        sides.append(sts_calls(aws_home))
    return tuple(sides)


CHAINS = {
    # issue 10: a source with keys and its own role: botocore stops at the keys.
    "source with keys and role": ("[profile src]\nrole_arn = " + UNTRUSTING + "\nsource_profile = src\n"
                                  "[profile tgt]\nrole_arn = " + R + "\nsource_profile = src\n", "[src]\n"),
    # A profile that names itself as its source, its keys beside its role.
    "self source": ("[profile tgt]\nrole_arn = " + R + "\nsource_profile = tgt\n", "[tgt]\n"),
    # A quoted name, several spaces and a comment after the header.
    "quoted names": ('[profile    "my tgt"]  # a note\nrole_arn = ' + R + "\nsource_profile = my src\n"
                     '[profile "my src"]\n', "[my src]\n"),
    # Keys indented alike, chained to R2 through R.
    "indented chain": ("[profile mid]\n  role_arn = " + R + "\n  source_profile = u\n"
                       "[profile tgt]\n  role_arn = " + R2 + "\n  source_profile = mid\n", ""),
}


@pytest.mark.parametrize("case", list(CHAINS))
def test_chains_make_the_aws_clis_sts_calls(aws_home: AwsHome, case: str) -> None:
    config, keys_section = CHAINS[case]
    aws_home.add_config(config)
    if keys_section:
        name = keys_section.strip()[1:-1]
        u = aws_home.world.u
        aws_home.add_credentials(f"{keys_section}aws_access_key_id = {u.access_key_id}\n"
                                 f"aws_secret_access_key = {u.secret_access_key}\n")
        assert name
    target = "my tgt" if case == "quoted names" else "tgt"
    cli, ours = both_sides(aws_home, target)
    assert cli == ours
    assert cli[0][2] == "U" and cli[-1][1] in (R, R2)


def test_the_credentials_files_keys_win_as_a_whole(aws_home: AwsHome) -> None:
    """The config file holds other keys for u (NOPE's): botocore takes the credentials file's triple."""
    nope = aws_home.world.nope
    aws_home.write_config(aws_home.config_file.read_text().replace(
        "[profile u]\n", f"[profile u]\naws_access_key_id = {nope.access_key_id}\n"
                         f"aws_secret_access_key = {nope.secret_access_key}\n"))
    cli, ours = both_sides(aws_home, "r")
    assert cli == ours == [("AssumeRole", R, "U")]


def test_web_identity_root_and_a_role_chained_from_it(aws_home: AwsHome, enforcing: None) -> None:
    token = aws_home.home / "token.jwt"
    token.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.sig")
    aws_home.add_config(f"[profile w]\nrole_arn = {R}\nweb_identity_token_file = {token}\n"
                        "role_session_name = wi-session\n"
                        f"[profile w2]\nrole_arn = {R2}\nsource_profile = w\n")
    cli, ours = both_sides(aws_home, "w2", unsigned=1)
    assert cli == ours == [("AssumeRoleWithWebIdentity", R, "none"), ("AssumeRole", R2, "session")]
    allow_unsigned(aws_home, 1)
    aws_home.proxy.reset()
    result = aws_home.run(["env", "w", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    [call] = aws_home.proxy.params("AssumeRoleWithWebIdentity")
    assert call["RoleSessionName"] == "wi-session" and call["WebIdentityToken"] == token.read_text()
    assert aws_home.proxy.count("GetSessionToken") == 0  # a session already: handed out as it is


@pytest.fixture
def portal(aws_home: AwsHome) -> Iterator[SsoPortal]:
    """The stand-in portal, handing out a real session of role R (as an SSO permission set would)."""
    import boto3

    u = aws_home.world.u
    sts = boto3.client("sts", endpoint_url=aws_home.world.endpoint, region_name="us-east-1",
                       aws_access_key_id=u.access_key_id, aws_secret_access_key=u.secret_access_key)
    role = sts.assume_role(RoleArn=R, RoleSessionName="sso-permission-set")["Credentials"]
    server = SsoPortal(role["AccessKeyId"], role["SecretAccessKey"], role["SessionToken"]).start()
    aws_home.env.update(AWS_ENDPOINT_URL_SSO=server.url, AWS_ENDPOINT_URL_SSO_OIDC=server.url)
    try:
        yield server
    finally:
        server.stop()


def test_sso_root_through_botocores_provider(aws_home: AwsHome, portal: SsoPortal) -> None:
    portal.valid_tokens.add("good-token")
    write_token(aws_home.home, "corp", access_token="good-token", expires_in=3600, start_url=START_URL)
    aws_home.add_config(SSO_PROFILE + f"[profile ssor]\nrole_arn = {R2}\nsource_profile = ssop\n")
    result = aws_home.run(["env", "ssop", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AWS_SESSION_TOKEN"] == portal.session_token
    assert portal.requests[-1] == {"action": "GetRoleCredentials", "token": "good-token",
                                   "role_name": "Dev", "account_id": "123456789012"}
    cli, ours = both_sides(aws_home, "ssor")
    assert cli == ours == [("AssumeRole", R2, "session")]


def test_an_expired_sso_token_is_refreshed_through_oidc(aws_home: AwsHome, portal: SsoPortal) -> None:
    portal.refreshes["refresh-1"] = "fresh-token"
    write_token(aws_home.home, "corp", access_token="stale", expires_in=-60, start_url=START_URL,
                refresh_token="refresh-1")
    aws_home.add_config(SSO_PROFILE)
    result = aws_home.run(["env", "ssop", "--shell", "json"])
    assert result.returncode == 0, result.stderr
    assert [r["action"] for r in portal.requests] == ["CreateToken", "GetRoleCredentials"]
    assert portal.requests[-1]["token"] == "fresh-token"


def test_a_legacy_sso_profile_finds_its_token_by_start_url(aws_home: AwsHome, portal: SsoPortal) -> None:
    portal.valid_tokens.add("legacy-token")
    write_token(aws_home.home, START_URL, access_token="legacy-token", expires_in=3600, start_url=START_URL)
    aws_home.add_config(f"[profile old]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
                        "sso_account_id = 123456789012\nsso_role_name = Dev\n")
    result = aws_home.run(["env", "old", "--shell", "json"])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("state", ["missing", "expired", "revoked"])
def test_sso_login_needed_is_one_line_and_exit_4(aws_home: AwsHome, portal: SsoPortal, state: str) -> None:
    """Issue 10: was 'internal error: SSOTokenLoadError' (exit 1), every morning."""
    if state != "missing":
        write_token(aws_home.home, "corp", access_token="old", expires_in=-60 if state == "expired" else 3600,
                    start_url=START_URL)
    aws_home.add_config(SSO_PROFILE)
    result = aws_home.run(["env", "ssop"])
    assert result.returncode == 4, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "aws sso login --profile ssop" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_sso_portal_is_exit_6(aws_home: AwsHome) -> None:
    write_token(aws_home.home, "corp", access_token="t", expires_in=3600, start_url=START_URL)
    aws_home.add_config(SSO_PROFILE)
    closed = f"http://127.0.0.1:{free_port()}"
    result = aws_home.run(["env", "ssop"], env_extra={"AWS_ENDPOINT_URL_SSO": closed})
    assert result.returncode == 6, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["direct", "through another profile", "through a role"])
@pytest.mark.parametrize("caller", ["assumer", "aws"])
def test_a_credential_process_calling_assumer_on_itself_fails_fast(aws_home: AwsHome, how: str,
                                                                   caller: str) -> None:
    process = f"credential_process = {aws_home.assumer} credential-process"
    aws_home.add_config({
        "direct": f"[profile loop]\n{process} loop\n",
        "through another profile": f"[profile loop]\n{process} other\n[profile other]\n{process} loop\n",
        "through a role": f"[profile base]\n{process} loop\n[profile loop]\nrole_arn = {R}\nsource_profile = base\n",
    }[how])
    argv = ([aws_home.assumer, "env", "loop"] if caller == "assumer"
            else ["aws", "sts", "get-caller-identity", "--profile", "loop", "--region", "ap-northeast-1"])
    started = time.monotonic()
    result = aws_home.command(argv, timeout=30)
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert result.returncode != 0 and "credential_process loop" in result.stderr, result.stderr
    if caller == "assumer":
        assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert aws_home.proxy.count("AssumeRole") == 0

"""Which hosts get an ECR token, as a user meets the rule: `assumer ecr-login`, `ecr-push`,
`ecr-helper configure` and the real docker-credential-assumer process, against moto behind
the recording proxy.

moto answers GetAuthorizationToken with an amazonaws.com proxy endpoint whatever was
asked, and with IAM enforcement it refuses the call in the cn, gov, iso and eusc
regions: so where the token is asked for is asserted at the proxy (the region the request
was signed for, and its registryIds), not from moto's answer.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.tools import awsconfig
from tests.tools.awshome import AwsHome
from tests.tools.ecr import ALLOW, EcrServices, partition_user

EVIL = "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com"  # the example
HELPER = "docker-credential-assumer"
TWELVE_HOURS = 12 * 3600


def helper(home: AwsHome, action: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    path = shutil.which(HELPER, path=home.env["PATH"])
    assert path, "docker-credential-assumer is not installed beside assumer"
    return home.command([path, action], input=stdin)


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- hosts that get no token ---------------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["ecr-login", "r", "--print-password"],
    ["ecr-login", "r", "--engine", "podman"],
    ["ecr-push", "r", "localhost/app:latest"],
    ["ecr-helper", "configure", "r"],
])
@pytest.mark.parametrize("host", [EVIL, "evil.example", "https://evil.example:8443/v2/"])
def test_a_host_that_is_not_ecr_is_refused_before_any_aws_call(aws_home: AwsHome, command: list[str],
                                                               host: str) -> None:
    result = aws_home.run([*command, "--registry", host])
    line = one_error_line(result, 3)
    assert "is not an ECR registry" in line and "--allow-non-ecr-registry" in line
    assert result.stdout == ""
    assert aws_home.proxy.requests() == []
    assert not (aws_home.home / ".docker").exists() and not (aws_home.home / ".config" / "assumer").exists()


@pytest.mark.parametrize("command", [["ecr-login", "r", "--print-password"], ["ecr-helper", "configure", "r"]])
def test_ecr_public_is_refused_naming_the_ecr_public_command(aws_home: AwsHome, command: list[str]) -> None:
    for host in ("public.ecr.aws", "https://public.ecr.aws/"):
        result = aws_home.run([*command, "--registry", host, ALLOW])
        line = one_error_line(result, 3)
        assert "ECR Public" in line and "aws ecr-public get-login-password" in line
    assert aws_home.proxy.requests() == []


def test_the_helper_answers_ecr_public_not_found_so_anonymous_pulls_work(aws_home: AwsHome) -> None:
    """Even with a mapping for it, as the released version wrote for any host."""
    config = aws_home.home / ".config" / "assumer"
    config.mkdir(parents=True, mode=0o700)
    (config / "registries.json").write_text(json.dumps({"registries": {"public.ecr.aws": {"profile": "r"}}}))
    (config / "registries.json").chmod(0o600)
    for asked in ("public.ecr.aws", "https://public.ecr.aws", "https://public.ecr.aws/v2/"):
        result = helper(aws_home, "get", asked)
        assert (result.returncode, result.stdout) == (1, "credentials not found in native keychain\n")
    assert aws_home.proxy.requests() == []


@pytest.mark.parametrize("host, partition", [
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn"),
    ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "aws-us-gov"),
    ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso"),
    ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc"),
])
def test_a_host_in_another_partition_than_the_session_is_refused(aws_home: AwsHome, host: str,
                                                                 partition: str) -> None:
    result = aws_home.run(["ecr-login", "r", "--print-password", "--registry", host])
    line = one_error_line(result, 3)
    assert f"is in partition {partition}, profile 'r' in aws" in line
    assert aws_home.proxy.requests() == []


# -- where the token is asked for --------------------------------------------------------------


@pytest.mark.parametrize("host, region, account", [
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1", "123456789012"),
    ("https://210987654321.dkr.ecr.us-west-2.amazonaws.com/v2/", "us-west-2", "210987654321"),
    ("123456789012.DKR-ECR.US-EAST-2.ON.AWS:443", "us-east-2", "123456789012"),
    ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1", "123456789012"),
])
def test_the_token_is_asked_in_the_hosts_region_for_the_hosts_account(aws_home: AwsHome, host: str, region: str,
                                                                      account: str) -> None:
    aws_home.run(["ecr-login", "r", "--print-password", "--registry", host])
    calls = aws_home.proxy.requests("GetAuthorizationToken")
    assert [(c.region, c.params.get("registryIds")) for c in calls] == [(region, [account])]


@pytest.mark.parametrize("region, host", [
    ("us-gov-west-1", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
    ("us-gov-east-1", "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com"),
    ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ("us-iso-east-1", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ("eusc-de-east-1", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
])
def test_a_host_in_the_sessions_own_partition_is_asked_there(aws_home: AwsHome, region: str, host: str) -> None:
    """A user of that partition, in its region: the token is asked there, for the host's account.

    moto refuses GetAuthorizationToken in these regions, so the request is what counts.
    """
    aws_home.add_keys("pu", partition_user(aws_home.world, region))
    aws_home.add_config(f"[profile pu]\nregion = {region}\n")
    result = aws_home.run(["ecr-login", "pu", "--print-password", "--registry", host])
    assert "partition" not in result.stderr
    assert next((c.action, c.region) for c in aws_home.proxy.requests()) == ("GetSessionToken", region)
    calls = aws_home.proxy.requests("GetAuthorizationToken")
    assert [(c.region, c.params.get("registryIds")) for c in calls] == [(region, ["123456789012"])]


@pytest.mark.parametrize("region, host", [
    ("ap-northeast-1", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"),
    ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ("us-iso-east-1", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ("us-isob-east-1", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
    ("eusc-de-east-1", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
])
def test_the_default_registry_has_the_dns_suffix_of_the_profiles_partition(aws_home: AwsHome, region: str,
                                                                           host: str) -> None:
    aws_home.add_role_profile("there", region=region)
    result = aws_home.run(["ecr-helper", "configure", "there"])
    assert result.returncode == 0, result.stderr
    config = json.loads((aws_home.home / ".docker" / "config.json").read_text())
    assert config["credHelpers"] == {host: "assumer"}
    assert "not an ECR registry" not in result.stderr


# -- the opt-in ----------------------------------------------------------------------------------


def test_the_opt_in_warns_once_and_is_stored_with_the_mapping(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    login = ecr_home.run(["ecr-login", "r", "--print-password", "--registry", host, ALLOW])
    assert (login.returncode, login.stdout) == (0, ecr.password + "\n"), login.stderr
    assert login.stderr.count("is not an ECR registry") == 1
    assert login.stderr.startswith(f"assumer: warning: {host} is not an ECR registry: it gets the ECR token")
    configured = ecr_home.run(["ecr-helper", "configure", "r", "--registry", host, ALLOW])
    assert configured.returncode == 0, configured.stderr
    assert configured.stderr.count("is not an ECR registry") == 1
    mapping = json.loads((ecr_home.home / ".config" / "assumer" / "registries.json").read_text())
    assert mapping == {"registries": {host: {"profile": "r", "allow_non_ecr_registry": True}}}
    served = helper(ecr_home, "get", host)
    assert served.returncode == 0 and json.loads(served.stdout)["Secret"] == ecr.password


def test_a_non_ecr_mapping_written_by_the_released_version_is_refused(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """0.x wrote any host without an opt-in: the helper refuses it with one line naming the option."""
    host = ecr.registry.host
    config = ecr_home.home / ".config" / "assumer"
    config.mkdir(parents=True, mode=0o700)
    (config / "registries.json").write_text(json.dumps({"registries": {host: {"profile": "r"}}}, indent=1) + "\n")
    (config / "registries.json").chmod(0o600)
    result = helper(ecr_home, "get", f"https://{host}")
    assert result.returncode == 1
    assert result.stdout.count("\n") == 1 and result.stdout == result.stderr
    assert f"{host} is not an ECR registry" in result.stdout and "--allow-non-ecr-registry" in result.stdout
    assert ecr.password not in result.stdout
    assert ecr_home.proxy.requests() == []
    # A push through the engine fails with the helper's words rather than sending the token.
    docker_dir = ecr_home.home / ".docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(json.dumps({"credHelpers": {host: "assumer"}}))
    ref = f"{host}/app:released-map"
    assert ecr_home.command(["docker", "tag", ecr.image, ref]).returncode == 0
    pushed = ecr_home.command(["docker", "push", ref])
    assert pushed.returncode != 0
    assert "released-map" not in ecr.registry.tags("app")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 0
    ecr.podman.remove_image(ref)


# -- tokens are keyed by the session that minted them -------------------------------------------


def test_a_token_is_not_served_after_the_profile_is_pointed_at_another_role(ecr_home: AwsHome,
                                                                           ecr: EcrServices) -> None:
    """Profile x assumes R (ECR allowed), then is pointed at R2 through r (no ECR permission)."""
    host = ecr.registry.host
    ecr_home.proxy.set_ecr_expiry(TWELVE_HOURS)
    ecr_home.add_role_profile("x")
    first = ecr_home.run(["ecr-login", "x", "--print-password"])
    assert (first.returncode, first.stdout) == (0, ecr.password + "\n"), first.stderr
    assert ecr_home.run(["ecr-helper", "configure", "x", "--registry", host, ALLOW]).returncode == 0
    assert helper(ecr_home, "get", host).returncode == 0
    assert ecr_home.proxy.count("GetAuthorizationToken") == 2  # the default registry's, then the helper's
    again = ecr_home.run(["ecr-login", "x", "--print-password"])
    assert again.returncode == 0 and ecr_home.proxy.count("GetAuthorizationToken") == 2  # cached
    # Point x at R2 (chained from r): same profile name, same hosts, another role.
    ecr_home.write_config(awsconfig.standard_config(ecr_home.world.role_r, ecr_home.world.role_r2)
                          + "\n" + awsconfig.role_profile("x", role=ecr_home.world.role_r2, source="r"))
    denied = ecr_home.run(["ecr-login", "x", "--print-password"])
    line = one_error_line(denied, 4)
    assert "ecr:GetAuthorizationToken" in line and denied.stdout == ""
    served = helper(ecr_home, "get", host)
    assert served.returncode == 1 and "ecr:GetAuthorizationToken" in served.stdout
    assert ecr.password not in served.stdout
    assert ecr_home.proxy.count("GetAuthorizationToken") == 4

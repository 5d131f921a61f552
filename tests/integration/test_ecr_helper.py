"""docker-credential-assumer and `assumer ecr-helper configure`, driven by real clients:
skopeo and the docker CLI (through podman) pushing to the TLS test registry, and the
helper protocol spoken over stdin/stdout as engines speak it.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.ecr import ALLOW, EcrServices
from tests.tools.secret_service import keyring_items, overwrite_secrets
from tests.tools.secrets_scan import files_containing, files_written_since

HELPER = "docker-credential-assumer"
NOT_FOUND = "credentials not found in native keychain\n"
DEFAULT_HOST = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"


def helper(home: AwsHome, action: str, stdin: str = "", **kwargs) -> subprocess.CompletedProcess[str]:
    path = shutil.which(HELPER, path=home.env["PATH"])
    assert path, "docker-credential-assumer is not installed beside assumer"
    return home.command([path, action], input=stdin, **kwargs)


def configure(home: AwsHome, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return home.run(["ecr-helper", "configure", *args], **kwargs)


def docker_config(home: AwsHome) -> dict:
    return json.loads((home.home / ".docker" / "config.json").read_text())


def test_configure_adds_the_cred_helper_and_keeps_the_rest(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    (ecr_home.home / ".docker").mkdir()
    before = {"auths": {host: {"auth": "QVdTOm9sZA=="}, "other:5000": {"auth": "dTpw"}},
              "credHelpers": {"gcr.io": "gcloud"}, "currentContext": "default",
              "proxies": {"default": {"httpProxy": "http://proxy:3128"}}}
    (ecr_home.home / ".docker" / "config.json").write_text(json.dumps(before))
    result = configure(ecr_home, "r", "--registry", host, ALLOW)
    assert result.returncode == 0, result.stderr
    after = docker_config(ecr_home)
    assert after["credHelpers"] == {"gcr.io": "gcloud", host: "assumer"}
    assert after["auths"] == {"other:5000": {"auth": "dTpw"}}  # the stale login for host is gone
    assert {k: after[k] for k in ("currentContext", "proxies")} == {k: before[k] for k in ("currentContext", "proxies")}
    mapping = json.loads((ecr_home.home / ".config" / "assumer" / "registries.json").read_text())
    assert mapping == {"registries": {host: {"profile": "r", "allow_non_ecr_registry": True}}}
    assert "removed the stored login" in result.stderr
    assert result.stderr.count(f"{host} is not an ECR registry") == 1  # the opt-in's warning, once
    assert list((ecr_home.home / ".docker").glob(".config.json.*")) == []  # no temp file left


def test_configure_defaults_to_the_roles_ecr_registry(ecr_home: AwsHome) -> None:
    result = configure(ecr_home, "r")
    assert result.returncode == 0, result.stderr
    assert docker_config(ecr_home)["credHelpers"] == {DEFAULT_HOST: "assumer"}
    assert ecr_home.proxy.requests() == []  # set-up needs no AWS call


def test_configure_refuses_when_the_helper_is_not_on_path(ecr_home: AwsHome, tmp_path: Path) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    result = configure(ecr_home, "r", env_extra={"PATH": f"{bare}:/usr/bin:/bin"})
    assert result.returncode == 7, result.stderr
    assert f"{HELPER} is not on PATH" in result.stderr
    assert not (ecr_home.home / ".docker" / "config.json").exists()


def test_configure_unknown_profile_is_exit_3(ecr_home: AwsHome) -> None:
    result = configure(ecr_home, "nosuch")
    assert result.returncode == 3, result.stderr


def test_skopeo_pushes_through_the_helper(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    wall = time.time()
    authfile = ecr_home.home / ".docker" / "config.json"
    result = ecr_home.command(["skopeo", "copy", "--authfile", str(authfile), f"oci:{ecr.layout}:latest",
                               f"docker://{host}/app:skopeo"], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "skopeo" in ecr.registry.tags("app")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1
    assert files_containing(ecr.password, ecr_home.home) == []
    assert files_written_since(ecr.password, Path("/tmp"), since=wall) == []


def test_plain_docker_push_uses_the_configured_helper(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    ecr_home.proxy.set_ecr_expiry(12 * 3600)
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    ref = f"{host}/app:helper"
    assert ecr_home.command(["docker", "tag", ecr.image, ref]).returncode == 0
    for _ in range(2):
        result = ecr_home.command(["docker", "push", ref])
        assert result.returncode == 0, result.stderr
    assert "helper" in ecr.registry.tags("app")
    # Tokens are cached in the keyring per registry and profile: one call for two pushes.
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1
    assert any(item.get("username", "").startswith("ecr:") for item in keyring_items("assumer"))
    assert "auths" not in docker_config(ecr_home) or host not in docker_config(ecr_home)["auths"]


def test_get_answers_in_the_protocols_shape(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    for asked in (host, f"https://{host}", f"https://{host}/v2/"):
        result = helper(ecr_home, "get", asked)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout) == {"ServerURL": asked, "Username": "AWS", "Secret": ecr.password}


def test_get_for_a_registry_it_does_not_serve(ecr_home: AwsHome) -> None:
    result = helper(ecr_home, "get", "https://index.docker.io/v1/")
    assert (result.returncode, result.stdout) == (1, NOT_FOUND)


# docker-credential-helpers, credentials/credentials.go (Get, Store, Erase) and credentials/error.go: the
# messages the engines' client code matches, on stdout, with exit status 1.
@pytest.mark.parametrize("action, stdin, message", [
    ("get", "", "no credentials server URL"),
    ("get", "\n", "no credentials server URL"),
    ("erase", "", "no credentials server URL"),
    ("store", '{"ServerURL": "", "Username": "AWS", "Secret": "x"}', "no credentials server URL"),
    ("store", '{"ServerURL": "h:1", "Username": "", "Secret": "x"}', "no credentials username"),
])
def test_bad_input_is_answered_in_the_protocols_words(ecr_home: AwsHome, action: str, stdin: str,
                                                      message: str) -> None:
    result = helper(ecr_home, action, stdin)
    assert (result.returncode, result.stdout) == (1, message + "\n")


@pytest.mark.parametrize("stdin", ["", "{", "[]"])
def test_malformed_store_input_is_exit_1(ecr_home: AwsHome, stdin: str) -> None:
    result = helper(ecr_home, "store", stdin)
    assert result.returncode == 1
    assert result.stdout.startswith("the credentials to store are not ") and result.stdout.count("\n") == 1


# A fresh helper process has not imported json: its errors must still be the ones json gives.
@pytest.mark.parametrize("text", ["{", '{"registries": {"h": }}', "[]"])
def test_a_malformed_registry_map_is_a_config_error(ecr_home: AwsHome, ecr: EcrServices, text: str) -> None:
    assert configure(ecr_home, "r", "--registry", ecr.registry.host, ALLOW).returncode == 0
    (ecr_home.home / ".config" / "assumer" / "registries.json").write_text(text)
    result = helper(ecr_home, "get", ecr.registry.host)
    assert result.returncode == 1
    assert result.stdout.startswith("docker-credential-assumer: ") and "the registry map" in result.stdout
    assert "internal error" not in result.stdout and result.stdout.strip() in result.stderr


@pytest.mark.parametrize("corrupt", [b"{not json", b'{"Username": "AWS"}', b"[1, 2, 3]", b"\xff\xfe binary", b""])
def test_a_corrupt_cached_token_is_dropped_and_minted_again(ecr_home: AwsHome, ecr: EcrServices,
                                                             corrupt: bytes) -> None:
    host = ecr.registry.host
    ecr_home.proxy.set_ecr_expiry(12 * 3600)  # moto's token expired in 2015: stale on arrival, never cached
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    assert helper(ecr_home, "get", host).returncode == 0
    assert overwrite_secrets("assumer", corrupt) == 2  # the session and the token
    for minted in (2, 2):  # dropped and minted again, then a clean cache hit
        result = helper(ecr_home, "get", host)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout) == {"ServerURL": host, "Username": "AWS", "Secret": ecr.password}
        assert ecr_home.proxy.count("GetAuthorizationToken") == minted
    assert result.stderr == ""


def test_a_registry_map_others_can_change_is_refused(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    mapping = ecr_home.home / ".config" / "assumer" / "registries.json"
    mapping.chmod(0o666)
    result = helper(ecr_home, "get", host)
    assert result.returncode == 1 and result.stdout == result.stderr and result.stdout.count("\n") == 1
    assert f"the registry map {mapping} can be changed by other users (mode 0666), so it is not trusted" \
        in result.stdout
    assert ecr_home.proxy.requests() == []
    again = configure(ecr_home, "r", "--registry", host, ALLOW)
    assert again.returncode == 3 and "is not trusted" in again.stderr
    mapping.chmod(0o600)
    mapping.parent.chmod(0o770)
    assert helper(ecr_home, "get", host).returncode == 1
    mapping.parent.chmod(0o700)
    assert helper(ecr_home, "get", host).returncode == 0


def test_configure_removes_a_login_podman_and_skopeo_would_use_first(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """A stale login in $XDG_RUNTIME_DIR/containers/auth.json beats Docker's credHelpers: configure removes it."""
    host = ecr.registry.host
    auth = Path(ecr_home.env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    auth.parent.mkdir(parents=True)
    stale = {"auths": {host: {"auth": base64.b64encode(b"AWS:an-expired-token").decode()},
                       "other.example": {"auth": "dTpw"}}}
    auth.write_text(json.dumps(stale))
    auth.chmod(0o600)
    source, target = f"oci:{ecr.layout}:latest", f"docker://{host}/app:podman-auth"
    refused = ecr_home.command(["skopeo", "copy", source, target], timeout=120)
    assert refused.returncode != 0  # the stale login is what skopeo uses, before any helper
    result = configure(ecr_home, "r", "--registry", host, ALLOW)
    assert result.returncode == 0, result.stderr
    assert f"removed the stored login for {host} from {auth}" in result.stderr
    assert json.loads(auth.read_text()) == {"auths": {"other.example": {"auth": "dTpw"}}}
    copied = ecr_home.command(["skopeo", "copy", source, target], timeout=120)
    assert copied.returncode == 0, copied.stderr
    assert "podman-auth" in ecr.registry.tags("app")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1


def test_configure_says_which_auth_file_it_could_not_check(ecr_home: AwsHome, ecr: EcrServices) -> None:
    auth = ecr_home.home / ".config" / "containers" / "auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text("{not json")
    result = configure(ecr_home, "r", "--registry", ecr.registry.host, ALLOW)
    assert result.returncode == 0, result.stderr
    assert f"assumer: warning: left {auth} as it is (it is not JSON): a login stored there for " \
           f"{ecr.registry.host} is used before the helper" in result.stderr


def test_get_failure_is_said_on_stdout_and_stderr(ecr_home: AwsHome, ecr: EcrServices) -> None:
    assert configure(ecr_home, "r2", "--registry", ecr.registry.host, ALLOW).returncode == 0
    result = helper(ecr_home, "get", ecr.registry.host)
    assert result.returncode == 1
    assert result.stdout.startswith("docker-credential-assumer: ") and "ecr:GetAuthorizationToken" in result.stdout
    assert result.stdout.strip() in result.stderr


def test_store_erase_list_version(ecr_home: AwsHome, ecr: EcrServices) -> None:
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    stored = helper(ecr_home, "store", json.dumps({"ServerURL": host, "Username": "AWS", "Secret": "x"}))
    assert (stored.returncode, stored.stdout) == (0, "")
    erased = helper(ecr_home, "erase", host)
    assert (erased.returncode, erased.stdout) == (0, "")
    listed = helper(ecr_home, "list")
    assert (listed.returncode, json.loads(listed.stdout)) == (0, {host: "AWS"})
    version = helper(ecr_home, "version")
    assert version.returncode == 0 and version.stdout.startswith("docker-credential-assumer (assumer) ")
    assert helper(ecr_home, "bogus").returncode == 1


def test_docker_login_through_the_helper_does_not_break(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """With credHelpers set, `docker login` calls the helper's store: it succeeds, keeps nothing."""
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    result = ecr_home.command(["docker", "login", "--username", "AWS", "--password-stdin", host],
                              input=ecr.password)
    assert result.returncode == 0, result.stderr
    # docker records an empty marker for the host; no credential is written.
    assert docker_config(ecr_home).get("auths", {}).get(host, {}) == {}
    assert files_containing(ecr.password, ecr_home.home) == []


def test_skopeo_finds_the_helper_in_the_docker_config_by_itself(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """No --authfile: containers/image falls back to ~/.docker/config.json and its credHelpers."""
    host = ecr.registry.host
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    result = ecr_home.command(["skopeo", "copy", f"oci:{ecr.layout}:latest", f"docker://{host}/app:found"],
                              timeout=120)
    assert result.returncode == 0, result.stderr
    assert "found" in ecr.registry.tags("app")
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1


HELPER_PROBE = """
import atexit, sys
def report():
    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'keyring', 'click'})
    sys.stderr.write('HEAVY:' + ','.join(heavy) + '\\n')
atexit.register(report)
sys.argv = ['docker-credential-assumer', 'get']
from assumer.ecr.helper import console_main
console_main()
"""


def test_helper_get_from_the_cache_imports_no_sdk_keyring_or_click(ecr_home: AwsHome, ecr: EcrServices) -> None:
    """Engines run the helper for every pull and push: a cached token is one keyring read."""
    import sys

    host = ecr.registry.host
    ecr_home.proxy.set_ecr_expiry(12 * 3600)
    assert configure(ecr_home, "r", "--registry", host, ALLOW).returncode == 0
    for expected in ({"boto3", "botocore"}, set()):
        result = ecr_home.command([sys.executable, "-c", HELPER_PROBE], input=host)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["Secret"] == ecr.password
        line = [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY:")][-1]
        heavy = {m for m in line[len("HEAVY:"):].split(",") if m}
        assert expected <= heavy if expected else heavy == set(), heavy
    assert ecr_home.proxy.count("GetAuthorizationToken") == 1

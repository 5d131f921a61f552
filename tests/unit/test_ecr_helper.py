"""assumer.ecr.helper: the protocol with a stand-in token source, and the set-up files."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from assumer.ecr import helper, routes
from assumer.errors import AuthError, ConfigError


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config"


H1 = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
H2 = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"


def source(host: str, route: helper.Route) -> tuple[str, str]:
    if route.profile == "denied":
        raise AuthError("getting an ECR login token for profile 'denied': access denied")
    return "AWS", f"pw-for-{route.profile}"


def run(action: str, stdin: str = "", environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = helper.handle(action, io.StringIO(stdin), out, err, environ or {}, source=source)
    return status, out.getvalue(), err.getvalue()


def test_get_for_a_configured_registry() -> None:
    routes.save_route(H1, routes.Route("r"))
    status, out, err = run("get", f"https://{H1}\n")
    assert (status, err) == (0, "")
    assert json.loads(out) == {"ServerURL": f"https://{H1}", "Username": "AWS", "Secret": "pw-for-r"}
    # An explicit :443 names the same registry.
    assert json.loads(run("get", f"{H1}:443")[1])["Secret"] == "pw-for-r"


def test_get_for_an_unknown_registry_says_the_protocols_words() -> None:
    assert run("get", "other:5000") == (1, "credentials not found in native keychain\n", "")


# docker-credential-helpers, credentials/credentials.go (Get, Store, Erase) and credentials/error.go:
# the messages engines match, on stdout, exit status 1.
@pytest.mark.parametrize("action, stdin, message", [
    ("get", "", "no credentials server URL"),
    ("get", " \n\t", "no credentials server URL"),
    ("erase", "", "no credentials server URL"),
    ("store", '{"ServerURL": "", "Username": "AWS", "Secret": "x"}', "no credentials server URL"),
    ("store", '{"Username": "AWS", "Secret": "x"}', "no credentials server URL"),
    ("store", '{"ServerURL": "h:1", "Secret": "x"}', "no credentials username"),
    ("store", '{"serverurl": "h:1", "username": ""}', "no credentials username"),
])
def test_bad_input_gets_the_protocols_words(action: str, stdin: str, message: str) -> None:
    assert run(action, stdin) == (1, message + "\n", "")


@pytest.mark.parametrize("stdin", ["", "{", "not json", "[]", '"h:1"'])
def test_malformed_store_input_is_exit_1_in_one_line(stdin: str) -> None:
    status, out, err = run("store", stdin)
    assert (status, err) == (1, "")
    assert out.startswith("the credentials to store are not ") and out.count("\n") == 1


def test_ecr_public_is_never_served_so_pulls_stay_anonymous() -> None:
    routes.save_route("public.ecr.aws", routes.Route("r", allow_non_ecr_registry=True))
    for asked in ("public.ecr.aws", "https://public.ecr.aws/v2/"):
        assert run("get", asked) == (1, "credentials not found in native keychain\n", "")


def test_a_non_ecr_host_is_served_only_with_the_stored_opt_in(config_home: Path) -> None:
    routes.save_route("mirror.example:5000", routes.Route("r", allow_non_ecr_registry=True))
    assert json.loads((config_home / "assumer" / "registries.json").read_text()) == {
        "registries": {"mirror.example:5000": {"profile": "r", "allow_non_ecr_registry": True}}}
    assert json.loads(run("get", "mirror.example:5000")[1])["Secret"] == "pw-for-r"


def test_a_non_ecr_mapping_without_the_opt_in_is_refused_naming_the_option(config_home: Path) -> None:
    """What assumer 0.x wrote for any host: no opt-in recorded."""
    (config_home / "assumer").mkdir(parents=True, mode=0o700)
    (config_home / "assumer" / "registries.json").write_text(
        json.dumps({"registries": {"evil.example": {"profile": "r"}}}))
    (config_home / "assumer" / "registries.json").chmod(0o600)
    status, out, err = run("get", "evil.example")
    assert status == 1 and out == err and out.count("\n") == 1
    assert "evil.example is not an ECR registry" in out and "--allow-non-ecr-registry" in out


def test_one_push_environment_wins_over_the_map() -> None:
    routes.save_route(H1, routes.Route("r"))
    environ = {helper.ENV_REGISTRY: H1, helper.ENV_PROFILE: "push-profile"}
    assert json.loads(run("get", H1, environ)[1])["Secret"] == "pw-for-push-profile"
    # ... for that registry only.
    assert run("get", H2, environ)[0] == 1


def test_secret_in_the_environment_is_used_for_its_registry_only() -> None:
    environ = {helper.ENV_REGISTRY: "h:1", helper.ENV_SECRET: "from-env", helper.ENV_USERNAME: "AWS"}
    assert json.loads(run("get", "https://h:1/v2/", environ)[1])["Secret"] == "from-env"
    assert run("get", "h:2", environ)[0] == 1


def test_errors_go_to_stdout_and_stderr_with_status_1() -> None:
    routes.save_route(H1, routes.Route("denied"))
    status, out, err = run("get", H1)
    assert status == 1
    assert out == err == "docker-credential-assumer: getting an ECR login token for profile 'denied': access denied\n"


def test_an_unexpected_error_is_one_line_not_a_traceback() -> None:
    routes.save_route(H1, routes.Route("r"))

    def broken(host: str, route: helper.Route) -> tuple[str, str]:
        raise RuntimeError("boom")

    out, err = io.StringIO(), io.StringIO()
    status = helper.handle("get", io.StringIO(H1), out, err, {}, source=broken)
    assert status == 1
    assert out.getvalue() == err.getvalue() == "docker-credential-assumer: internal error: RuntimeError: boom (a bug)\n"


def test_store_and_erase_succeed_and_keep_nothing(config_home: Path) -> None:
    assert run("store", json.dumps({"ServerURL": "h:1", "Username": "AWS", "Secret": "x"})) == (0, "", "")
    assert run("erase", "h:1") == (0, "", "")
    assert not (config_home / "assumer").exists()


@pytest.mark.parametrize("file_mode, dir_mode, problem", [
    (0o666, 0o700, "can be changed by other users (mode 0666)"),
    (0o620, 0o700, "can be changed by other users (mode 0620)"),
    (0o600, 0o777, "is in a directory that can be changed by other users (mode 0777)"),
])
def test_a_map_others_can_change_is_not_trusted(config_home: Path, file_mode: int, dir_mode: int,
                                                 problem: str) -> None:
    path = routes.save_route(H1, routes.Route("r"))
    path.chmod(file_mode)
    path.parent.chmod(dir_mode)
    with pytest.raises(ConfigError) as caught:
        routes.load_routes()
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith(f"the registry map {path} {problem}, so it is not trusted (")
    status, out, err = run("get", H1)
    assert status == 1 and problem in out and out == err and out.count("\n") == 1
    path.parent.chmod(0o700)


def test_a_map_that_is_a_symlink_is_not_trusted(config_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"registries": {"evil.example": {"profile": "r",
                                                                     "allow_non_ecr_registry": True}}}))
    (config_home / "assumer").mkdir(parents=True, mode=0o700)
    (config_home / "assumer" / "registries.json").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        routes.load_routes()


def test_list_and_version() -> None:
    routes.save_route(H1, routes.Route("r"))
    routes.save_route(H2, routes.Route("r2", "eu-west-1"))
    assert json.loads(run("list")[1]) == {H1: "AWS", H2: "AWS"}
    status, out, _ = run("version")
    assert status == 0 and out.startswith("docker-credential-assumer (assumer) ")
    assert run("nope")[0] == 1


def test_mapping_file_round_trip_and_mode(config_home: Path) -> None:
    path = routes.save_route("h:1", routes.Route("r", None, "u"))
    routes.save_route("h:2", routes.Route("x", "eu-west-1"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"registries": {"h:1": {"profile": "r", "source_profile": "u"},
                                                          "h:2": {"profile": "x", "region": "eu-west-1"}}}
    assert routes.load_routes()["h:1"] == routes.Route("r", None, "u")


def test_broken_mapping_file_is_a_config_error(config_home: Path) -> None:
    (config_home / "assumer").mkdir(parents=True)
    (config_home / "assumer" / "registries.json").write_text("[")
    with pytest.raises(ConfigError, match=r"registries\.json"):
        routes.load_routes()
    assert run("get", "h:1")[0] == 1


def test_add_cred_helper_keeps_everything_else(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    original = {"auths": {"h:1": {"auth": "eDp5"}, "o:2": {"auth": "YTpi"}}, "credHelpers": {"gcr.io": "gcloud"},
                "credsStore": "desktop", "currentContext": "ctx", "proxies": {"default": {"noProxy": "*"}},
                "plugins": {"x": {"y": "z"}}}
    config.write_text(json.dumps(original))
    config.chmod(0o640)
    assert routes.add_cred_helper(config, "h:1") is True
    updated = json.loads(config.read_text())
    assert updated["credHelpers"] == {"gcr.io": "gcloud", "h:1": "assumer"}
    assert updated["auths"] == {"o:2": {"auth": "YTpi"}}
    for key in ("credsStore", "currentContext", "proxies", "plugins"):
        assert updated[key] == original[key]
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert routes.add_cred_helper(config, "h:1") is False  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_configure_removes_the_hosts_logins_from_the_podman_and_skopeo_auth_files(tmp_path: Path) -> None:
    home, runtime, custom = tmp_path / "home", tmp_path / "run", tmp_path / "custom.json"
    environ = {"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime), "REGISTRY_AUTH_FILE": str(custom)}
    files = routes.containers_auth_files(environ)
    assert files == [custom, runtime / "containers" / "auth.json", home / ".config" / "containers" / "auth.json"]
    kept = {"other:5000": {"auth": "dTpw"}}
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"auths": {"h:1": {"auth": "QVdTOm9sZA=="}, "h:1/team": {"auth": "eA=="},
                                              "https://h:1": {"auth": "eA=="}, **kept}}))
        path.chmod(0o640)
    removed, left = routes.remove_containers_logins("h:1", environ)
    assert (removed, left) == (files, [])
    for path in files:
        assert json.loads(path.read_text()) == {"auths": kept}
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert routes.remove_containers_logins("h:1", environ) == ([], [])
    files[1].write_text("{not json")
    assert routes.remove_containers_logins("h:1", environ) == ([], [(files[1], "it is not JSON")])


def test_add_cred_helper_creates_a_private_config_and_follows_a_symlink(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "config.json"
    routes.add_cred_helper(fresh, "h:1")
    assert json.loads(fresh.read_text()) == {"credHelpers": {"h:1": "assumer"}}
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    real = tmp_path / "dotfiles-docker.json"
    real.write_text("{}")
    link = tmp_path / "linked.json"
    link.symlink_to(real)
    routes.add_cred_helper(link, "h:2")
    assert link.is_symlink() and json.loads(real.read_text()) == {"credHelpers": {"h:2": "assumer"}}


def test_check_on_path(tmp_path: Path) -> None:
    from assumer.errors import EngineError

    with pytest.raises(EngineError, match="not on PATH") as caught:
        routes.check_on_path({"PATH": str(tmp_path)})
    assert caught.value.exit_code == 7
    helper = tmp_path / "docker-credential-assumer"
    helper.write_text("#!/bin/sh\n")
    helper.chmod(0o755)
    assert routes.check_on_path({"PATH": str(tmp_path)}) == str(helper)


def test_push_environment_names_the_profile_and_hands_over_only_when_asked() -> None:
    from types import SimpleNamespace

    token = SimpleNamespace(username="AWS", password="pw-xyz")
    result = SimpleNamespace(host="h:1", token=token)
    session = SimpleNamespace(profile="arn:aws:iam::123456789012:role/R", region="ap-northeast-1")
    env = helper.one_push_environment(result, session, source_profile="u", hand_over=False)
    assert env == {helper.ENV_REGISTRY: "h:1", helper.ENV_PROFILE: session.profile,
                   helper.ENV_REGION: "ap-northeast-1", helper.ENV_SOURCE_PROFILE: "u"}
    handed = helper.one_push_environment(result, session, source_profile=None, hand_over=True)
    assert handed[helper.ENV_SECRET] == "pw-xyz" and helper.ENV_SOURCE_PROFILE not in handed

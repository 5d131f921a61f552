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


def source(host: str, route: helper.Route) -> tuple[str, str]:
    if route.profile == "denied":
        raise AuthError("getting an ECR login token for profile 'denied': access denied")
    return "AWS", f"pw-for-{route.profile}"


def run(action: str, stdin: str = "", environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = helper.handle(action, io.StringIO(stdin), out, err, environ or {}, source=source)
    return status, out.getvalue(), err.getvalue()


def test_get_for_a_configured_registry() -> None:
    routes.save_route("h:1", routes.Route("r"))
    status, out, err = run("get", "https://h:1\n")
    assert (status, err) == (0, "")
    assert json.loads(out) == {"ServerURL": "https://h:1", "Username": "AWS", "Secret": "pw-for-r"}


def test_get_for_an_unknown_registry_says_the_protocols_words() -> None:
    assert run("get", "other:5000") == (1, "credentials not found in native keychain\n", "")
    assert run("get", "") == (1, "credentials not found in native keychain\n", "")


def test_one_push_environment_wins_over_the_map() -> None:
    routes.save_route("h:1", routes.Route("r"))
    environ = {helper.ENV_REGISTRY: "h:1", helper.ENV_PROFILE: "push-profile"}
    assert json.loads(run("get", "h:1", environ)[1])["Secret"] == "pw-for-push-profile"
    # ... for that registry only.
    assert run("get", "h:2", environ)[0] == 1


def test_secret_in_the_environment_is_used_for_its_registry_only() -> None:
    environ = {helper.ENV_REGISTRY: "h:1", helper.ENV_SECRET: "from-env", helper.ENV_USERNAME: "AWS"}
    assert json.loads(run("get", "https://h:1/v2/", environ)[1])["Secret"] == "from-env"
    assert run("get", "h:2", environ)[0] == 1


def test_errors_go_to_stdout_and_stderr_with_status_1() -> None:
    routes.save_route("h:1", routes.Route("denied"))
    status, out, err = run("get", "h:1")
    assert status == 1
    assert out == err == "docker-credential-assumer: getting an ECR login token for profile 'denied': access denied\n"


def test_an_unexpected_error_is_one_line_not_a_traceback() -> None:
    routes.save_route("h:1", routes.Route("r"))

    def broken(host: str, route: helper.Route) -> tuple[str, str]:
        raise RuntimeError("boom")

    out, err = io.StringIO(), io.StringIO()
    status = helper.handle("get", io.StringIO("h:1"), out, err, {}, source=broken)
    assert status == 1
    assert out.getvalue() == err.getvalue() == "docker-credential-assumer: internal error: RuntimeError: boom (a bug)\n"


def test_store_and_erase_succeed_and_keep_nothing(config_home: Path) -> None:
    assert run("store", json.dumps({"ServerURL": "h:1", "Username": "AWS", "Secret": "x"})) == (0, "", "")
    assert run("erase", "h:1") == (0, "", "")
    assert not (config_home / "assumer").exists()


def test_list_and_version() -> None:
    routes.save_route("h:1", routes.Route("r"))
    routes.save_route("h:2", routes.Route("r2", "eu-west-1"))
    assert json.loads(run("list")[1]) == {"h:1": "AWS", "h:2": "AWS"}
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

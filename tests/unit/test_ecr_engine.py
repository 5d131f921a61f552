"""assumer.ecr.engine without running a program: the private Docker config, engine look-up, signals.

The calls that run an engine are tested with stand-in engine programs in
tests/integration/test_ecr_engine_standins.py.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from assumer.ecr import engine
from assumer.errors import ConfigError, EngineError


def test_no_engine_is_an_engine_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="no container engine found: docker or podman") as caught:
        engine.find_engine("auto", environ={"PATH": str(tmp_path)})
    assert caught.value.exit_code == 7


def test_scoped_config_drops_logins_and_names_the_helper() -> None:
    user = {"auths": {"h:1": {"auth": "c2VjcmV0"}}, "credHelpers": {"gcr.io": "gcloud"},
            "credsStore": "desktop", "currentContext": "desktop-linux", "proxies": {"default": {}}}
    config = engine.scoped_config(user, "h:1")
    assert "auths" not in config
    assert config["credHelpers"] == {"gcr.io": "gcloud", "h:1": "assumer"}
    assert {k: config[k] for k in ("credsStore", "currentContext", "proxies")} == \
        {k: user[k] for k in ("credsStore", "currentContext", "proxies")}
    assert user["auths"]  # the user's dict is not changed


def test_private_docker_config_for_docker_keeps_the_users_settings_and_cleans_up(tmp_path: Path) -> None:
    user_dir = tmp_path / "dot-docker"
    (user_dir / "contexts" / "meta").mkdir(parents=True)
    (user_dir / "cli-plugins").mkdir()
    (user_dir / "ca.pem").write_text("ca")
    (user_dir / "config.json").write_text(json.dumps({"auths": {"h:1": {"auth": "eA=="}}, "currentContext": "c"}))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    environ = {"DOCKER_CONFIG": str(user_dir), "PATH": "/usr/bin", "XDG_RUNTIME_DIR": str(runtime), "HOME": "/nope"}
    runner = engine.Engine("docker", "/bin/true", "docker")
    with engine.private_docker_config(runner, "h:1", {"ASSUMER_HELPER_REGISTRY": "h:1"}, environ) as (env, extra):
        private = Path(env["DOCKER_CONFIG"])
        assert private.parent == runtime and stat.S_IMODE(private.stat().st_mode) == 0o700
        assert json.loads((private / "config.json").read_text()) == {"currentContext": "c",
                                                                     "credHelpers": {"h:1": "assumer"}}
        assert stat.S_IMODE((private / "config.json").stat().st_mode) == 0o600
        for name in ("contexts", "cli-plugins", "ca.pem"):
            assert (private / name).is_symlink() and (private / name).resolve() == user_dir / name
        assert env["DOCKER_CERT_PATH"] == str(user_dir)
        assert env["ASSUMER_HELPER_REGISTRY"] == "h:1"
        assert env["PATH"].split(os.pathsep)[0] == engine.helper_directory(environ)
        assert extra == []
    assert not private.exists()
    assert (user_dir / "contexts" / "meta").is_dir()  # removing the symlinks left the user's files alone


def test_private_docker_config_is_removed_when_the_push_fails(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path), "PATH": "/usr/bin", "XDG_RUNTIME_DIR": str(tmp_path)}
    runner = engine.Engine("docker", "x", "docker")
    with pytest.raises(EngineError), engine.private_docker_config(runner, "h:1", {}, environ) as (env, _):
        private = Path(env["DOCKER_CONFIG"])
        raise EngineError("push refused")
    assert not private.exists()


def test_private_docker_config_for_podman_uses_an_authfile(tmp_path: Path) -> None:
    environ = {"HOME": str(tmp_path), "PATH": "/usr/bin", "XDG_RUNTIME_DIR": str(tmp_path)}
    with engine.private_docker_config(engine.Engine("podman", "x", "podman"), "h:1", {}, environ) as (env, extra):
        assert extra[0] == "--authfile" and extra[2] == "--digestfile"
        assert json.loads(Path(extra[1]).read_text())["credHelpers"] == {"h:1": "assumer"}
        assert "DOCKER_CONFIG" not in env
    assert not Path(extra[1]).exists()


def test_unreadable_docker_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the Docker config"):
        engine.read_docker_config(tmp_path / "config.json")


def test_a_signal_during_clean_up_waits_for_it_to_finish() -> None:
    import signal

    finished = []
    with pytest.raises(engine.Stopped) as caught, engine.stop_on_signals(), engine._shielded():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the Python-level handler runs between bytecodes
            pass
        finished.append(True)
    assert finished == [True]
    assert caught.value.exit_code == 143
    assert "nothing was left behind" in str(caught.value)


def test_a_push_config_whose_process_is_gone_is_removed_and_a_live_ones_is_kept(tmp_path: Path) -> None:
    """SIGKILL leaves the private config behind: the next push removes it, never a running push's."""
    gone = 4194304 + 1  # above any pid_max: no process has it
    stale = tmp_path / f"assumer-push-{gone}-abcd"
    live = tmp_path / f"assumer-push-{os.getppid()}-efgh"  # pytest's parent runs
    mine = tmp_path / f"assumer-push-{os.getpid()}-ijkl"  # this process's own push
    released = tmp_path / "assumer-push-mnop"  # no pid in the name: cannot tell, left alone
    for directory in (stale, live, mine, released):
        directory.mkdir()
        (directory / "config.json").write_text("{}")
    (tmp_path / f"assumer-push-{gone}-file").write_text("")  # not a directory: left alone
    assert engine.remove_stale_configs(str(tmp_path)) == [str(stale)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, mine.name, released.name, f"assumer-push-{gone}-file"])


def test_the_private_config_is_named_after_its_process(tmp_path: Path) -> None:
    runner = engine.Engine("docker", "/bin/true", "docker")
    environ = {"HOME": str(tmp_path), "PATH": os.defpath, "XDG_RUNTIME_DIR": str(tmp_path)}
    (tmp_path / f"assumer-push-{4194304 + 1}-x").mkdir()
    helper_dir = tmp_path / "bin"
    helper_dir.mkdir()
    (helper_dir / engine.HELPER).write_text("#!/bin/sh\n")
    (helper_dir / engine.HELPER).chmod(0o755)
    environ["PATH"] = str(helper_dir)
    with engine.private_docker_config(runner, "h:1", {}, environ) as (env, _):
        assert Path(env["DOCKER_CONFIG"]).name.startswith(f"assumer-push-{os.getpid()}-")
        assert [p.name for p in tmp_path.glob("assumer-push-*")] == [Path(env["DOCKER_CONFIG"]).name]

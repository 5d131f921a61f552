"""Roots, the renewal rule and the credential_process loop, through get_session with fakes (issue 10).

The same flows run against moto, a real keyring and a stand-in SSO portal in
tests/integration/test_core_roots.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from assumer.core.profiles import AwsConfig, IniFile
from assumer.core.roots import RESOLVING
from assumer.core.session import SessionOptions, get_session
from assumer.credentials import Credentials
from assumer.errors import ConfigError
from assumer.store.cache import SessionCache
from tests.unit.test_session import NOW, Env, FakeSts, R

SSO = "sso_start_url = https://portal.example\nsso_region = us-east-1\nsso_account_id = 123456789012\n" \
      "sso_role_name = Dev\n"


class ShortSts(FakeSts):
    """Hands out 900 s sessions, as STS does for duration_seconds = 900, with the time obtained."""

    def _session(self) -> Credentials:
        with self.lock:
            n = len(self.calls)
        return Credentials(f"ASIA{n:016d}", f"secret{n}", f"token{n}", NOW + timedelta(seconds=900), obtained=NOW)


class RootSts(FakeSts):
    """A botocore root (SSO, web identity, process) that answers with a session of its own."""

    def profile_credentials(self, profile: str) -> Credentials:
        self.calls.append({"op": "profile_credentials", "profile": profile})
        return Credentials("ASIASSOSSOSSOSSOSSO1", "sso-secret", "sso-token", NOW + timedelta(hours=1), obtained=NOW)


@pytest.fixture
def env(tmp_path) -> Env:  # type: ignore[no-untyped-def]
    return Env(tmp_path)


def get(env: Env, name: str, cache_ttl: int = 900, **options: Any):  # type: ignore[no-untyped-def]
    return get_session(
        name, SessionOptions(**options), config=env.config,
        cache=SessionCache(env.store, env.index, cache_ttl), keys=env.keys, environ=env.environ,
        now=lambda: env.now, mfa_prompt=env.prompt, sts_api=env.sts,
    )


def test_a_900s_session_is_reused_for_450s(env: Env) -> None:
    """Issue 10: 'duration_seconds = 900 never hits the cache'; the renewal rule serves it for half its life."""
    env.sts = ShortSts()
    env.config = AwsConfig(IniFile("config", f"[profile s]\nrole_arn = {R}\nsource_profile = u\n"
                                             "duration_seconds = 900\n[profile u]\n"),
                           env.config.credentials)
    assert not get(env, "s").cached
    env.now = NOW + timedelta(seconds=450)
    assert get(env, "s").cached
    env.now = NOW + timedelta(seconds=451)
    assert not get(env, "s").cached
    assert env.ops() == ["AssumeRole", "AssumeRole"]


def test_a_min_ttl_not_shorter_than_the_session_warns_once(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    env.sts = ShortSts()
    env.environ["ASSUMER_MIN_TTL"] = "900"
    get(env, "r")
    assert capsys.readouterr().err.count("ASSUMER_MIN_TTL=900 is not shorter than this session's lifetime") == 1
    env.environ.pop("ASSUMER_MIN_TTL")
    get(env, "r")
    assert "ASSUMER_MIN_TTL" not in capsys.readouterr().err  # the default is not the user's choice


def test_an_sso_target_is_handed_out_as_botocore_gives_it(env: Env) -> None:
    """No GetSessionToken with a session's credentials (STS refuses it): the root's session is the session."""
    env.sts = RootSts()
    env.config = AwsConfig(IniFile("config", f"[profile sso]\n{SSO}"), IniFile("credentials", ""))
    session = get(env, "sso")
    assert session.credentials.access_key_id == "ASIASSOSSOSSOSSOSSO1"
    assert env.ops() == ["profile_credentials"]
    assert get(env, "sso").cached


def test_a_role_on_an_sso_root_signs_with_the_sso_session(env: Env) -> None:
    env.sts = RootSts()
    text = f"[profile sso]\n{SSO}[profile r]\nrole_arn = {R}\nsource_profile = sso\n"
    env.config = AwsConfig(IniFile("config", text), IniFile("credentials", ""))
    get(env, "r")
    assert env.ops() == ["profile_credentials", "AssumeRole"]
    assert env.sts.calls[1]["source"].access_key_id == "ASIASSOSSOSSOSSOSSO1"


def test_static_keys_are_the_credentials_files_whole_triple(env: Env) -> None:
    env.config = AwsConfig(
        IniFile("config", "[profile k]\naws_access_key_id = AKIACONFIGCONFIGCONF\naws_secret_access_key = c\n"
                          "aws_session_token = config-token\n"),
        IniFile("credentials", "[k]\naws_access_key_id = AKIACREDSCREDSCREDS1\naws_secret_access_key = k\n"
                               "aws_security_token = legacy-token\n"))
    get(env, "k")
    assert env.sts.calls[0]["source"] == Credentials("AKIACREDSCREDSCREDS1", "k", "legacy-token")


def test_a_key_id_without_its_secret_is_refused_not_mixed_across_files(env: Env) -> None:
    env.config = AwsConfig(IniFile("config", "[profile k]\naws_secret_access_key = from-config\n"),
                           IniFile("credentials", "[k]\naws_access_key_id = AKIACREDSCREDSCREDS1\n"))
    with pytest.raises(ConfigError, match="aws_access_key_id but no aws_secret_access_key in credentials"):
        get(env, "k")


@pytest.mark.parametrize(("chain", "profile", "loop"), [
    (["p"], "p", "p -> p"),
    (["p", "q"], "r", "p -> q -> p"),
])
def test_a_credential_process_loop_is_refused_before_any_lock(env: Env, chain: list[str], profile: str,
                                                              loop: str) -> None:
    env.config = AwsConfig(IniFile("config", "[profile p]\ncredential_process = assumer credential-process p\n"
                                             f"[profile q]\ncredential_process = x\n[profile r]\nrole_arn = {R}\n"
                                             "source_profile = p\n"),
                           IniFile("credentials", ""))
    env.environ[RESOLVING] = json.dumps(chain)
    with pytest.raises(ConfigError, match=f"credential_process loop: {loop} ") as info:
        get(env, profile)
    assert info.value.exit_code == 3
    assert env.sts.calls == []


def test_an_unrelated_resolving_chain_is_no_loop(env: Env) -> None:
    env.environ[RESOLVING] = json.dumps(["elsewhere"])
    get(env, "r")
    env.environ[RESOLVING] = "not json"
    get(env, "r", refresh=True)
    assert env.ops() == ["AssumeRole", "AssumeRole"]


def test_login_session_is_refused_clearly(env: Env) -> None:
    env.config = AwsConfig(IniFile("config", "[profile l]\nlogin_session = arn:aws:iam::123456789012:user/u\n"),
                           IniFile("credentials", ""))
    with pytest.raises(ConfigError, match="login_session, which assumer does not support"):
        get(env, "l")

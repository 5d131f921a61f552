"""The credential core with fakes for STS and the keyring: the edge cases of caching and chaining.

The same flows run against moto and a real Secret Service in tests/integration.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from assumer.core.profiles import AwsConfig, IniFile
from assumer.core.roots import own_session_in
from assumer.core.session import SessionOptions, get_session
from assumer.credentials import Credentials
from assumer.errors import AuthError, ConfigError, KeyringError
from assumer.store.cache import Index, SessionCache
from tests.tools.fakes import MemoryStore

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
R = "arn:aws:iam::123456789012:role/R"
R2 = "arn:aws:iam::123456789012:role/R2"
CONFIG = f"""
[profile u]
region = ap-northeast-1
[profile r]
role_arn = {R}
source_profile = u
region = ap-northeast-1
[profile r2]
role_arn = {R2}
source_profile = r
[profile mfa]
role_arn = {R}
source_profile = u
mfa_serial = arn:aws:iam::123456789012:mfa/u
[profile envrole]
role_arn = {R}
credential_source = Environment
[profile bare]
region = x
"""
CREDS_FILE = "[u]\naws_access_key_id = AKIAUUUUUUUUUUUUUUUU\naws_secret_access_key = uuuuuuuuuuuuuuuuuuuu\n"


@dataclass
class FakeSts:
    """Records calls; hands out numbered sessions valid for an hour."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _session(self) -> Credentials:
        with self.lock:
            n = len(self.calls)
        return Credentials(f"ASIA{n:016d}", f"secret{n}", f"token{n}", NOW + timedelta(hours=1))

    def assume_role(self, **kwargs: Any) -> Credentials:
        with self.lock:
            self.calls.append({"op": "AssumeRole", **kwargs})
        return self._session()

    def get_session_token(self, **kwargs: Any) -> Credentials:
        with self.lock:
            self.calls.append({"op": "GetSessionToken", **kwargs})
        return self._session()

    def profile_credentials(self, profile: str) -> Credentials:
        return Credentials("AKIAUUUUUUUUUUUUUUUU", "uuuuuuuuuuuuuuuuuuuu")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir(mode=0o700)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


class Env:
    def __init__(self, tmp_path) -> None:
        self.sts = FakeSts()
        self.store = MemoryStore()
        self.keys = MemoryStore()
        self.index = Index(tmp_path / "state" / "index.json")
        self.config = AwsConfig(IniFile("config", CONFIG), IniFile("credentials", CREDS_FILE))
        self.now = NOW
        self.environ: dict[str, str] = {}
        self.codes: list[str] = []

    def get(self, name: str, **options: Any):  # type: ignore[no-untyped-def]
        return get_session(
            name, SessionOptions(**options), config=self.config,
            cache=SessionCache(self.store, self.index, 900), keys=self.keys, environ=self.environ,
            now=lambda: self.now, mfa_prompt=self.prompt, sts_api=self.sts,
        )

    def prompt(self, serial: str, profile: str) -> str:
        self.codes.append(serial)
        return "123456"

    def ops(self) -> list[str]:
        return [call["op"] for call in self.sts.calls]


@pytest.fixture
def env(tmp_path) -> Env:
    return Env(tmp_path)


def test_second_call_is_served_from_the_cache(env: Env) -> None:
    first = env.get("r")
    second = env.get("r")
    assert not first.cached and second.cached
    assert second.credentials == first.credentials
    assert env.ops() == ["AssumeRole"]
    assert env.index.load()  # the index names the cached session for list/clear


def test_near_expiry_session_is_renewed(env: Env) -> None:
    env.get("r")
    env.now = NOW + timedelta(seconds=3600 - 899)  # under the 900 s minimum left
    assert not env.get("r").cached
    assert env.ops() == ["AssumeRole", "AssumeRole"]


def test_refresh_and_no_cache(env: Env) -> None:
    env.get("r")
    assert not env.get("r", refresh=True).cached
    env.store.items.clear()
    env.get("r", no_cache=True)
    assert env.store.items == {}
    assert env.ops() == ["AssumeRole"] * 3


def test_chain_reuses_the_cached_source_session(env: Env) -> None:
    r = env.get("r")
    r2 = env.get("r2")
    assert env.ops() == ["AssumeRole", "AssumeRole"]
    assert env.sts.calls[1]["source"] == r.credentials
    assert env.sts.calls[1]["role_arn"] == R2
    assert r2.region is None


def test_chained_duration_is_capped_at_one_hour(env: Env, capsys) -> None:
    env.get("r2", duration=7200)
    assert env.sts.calls[-1]["duration"] == 3600
    assert "caps" in capsys.readouterr().err


def test_mfa_code_from_the_option_or_the_prompt(env: Env) -> None:
    env.get("mfa", mfa_code="654321")
    assert env.sts.calls[-1]["mfa_code"] == "654321" and env.codes == []
    env.get("mfa", refresh=True)
    assert env.sts.calls[-1]["mfa_code"] == "123456" and env.codes == ["arn:aws:iam::123456789012:mfa/u"]


def test_mfa_code_must_be_six_digits(env: Env) -> None:
    with pytest.raises(ConfigError, match="6 digits"):
        env.get("mfa", mfa_code="12ab")
    assert env.ops() == []


def test_stored_keys_take_precedence_over_the_credentials_file(env: Env) -> None:
    stored = Credentials("AKIASTOREDSTOREDSTOR", "storedstoredstoredstored")
    env.keys.set("u", stored.to_json())
    env.get("r")
    assert env.sts.calls[0]["source"] == stored


def test_environment_source_ignores_assumers_own_session(env: Env) -> None:
    env.environ = {"AWS_ACCESS_KEY_ID": "ASIAOWN", "AWS_SECRET_ACCESS_KEY": "x", "ASSUMER_KEY_ID": "ASIAOWN"}
    assert own_session_in(env.environ)
    with pytest.raises(ConfigError, match="assumer's own session"):
        env.get("envrole")
    env.environ["AWS_ACCESS_KEY_ID"] = "AKIAHANDEXPORTED0000"  # exported by hand later: honoured
    env.get("envrole")
    assert env.sts.calls[-1]["source"].access_key_id == "AKIAHANDEXPORTED0000"


def test_profile_without_credentials(env: Env) -> None:
    with pytest.raises(ConfigError, match="neither role_arn nor credentials"):
        env.get("bare")


def test_plain_profile_gets_a_session_token(env: Env) -> None:
    assert env.get("u").credentials.session_token
    assert env.ops() == ["GetSessionToken"]


def test_corrupt_entry_is_discarded_and_replaced(env: Env, capsys) -> None:
    env.get("r")
    (key,) = list(env.store.items)
    env.store.items[key] = "garbage"
    assert not env.get("r").cached
    assert "discarding a corrupt cached session" in capsys.readouterr().err
    assert env.get("r").cached


class BrokenStore(MemoryStore):
    def get(self, username: str) -> str | None:
        raise KeyringError("cannot read from the keyring: locked")

    def set(self, username: str, secret: str) -> None:
        raise KeyringError("cannot write to the keyring: locked")


def test_failing_keyring_still_hands_out_a_session_and_says_so_once(env: Env, capsys) -> None:
    env.store = BrokenStore()
    env.get("r")
    env.get("r")
    err = capsys.readouterr().err
    assert err.count("continuing without the session cache") == 1
    assert env.ops() == ["AssumeRole", "AssumeRole"]


def test_parallel_cold_calls_make_one_assume_role(env: Env) -> None:
    results: list[Credentials] = []

    def call() -> None:
        results.append(env.get("r").credentials)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert env.ops() == ["AssumeRole"]
    assert len(set(results)) == 1 and len(results) == 8


def test_sts_errors_propagate(env: Env) -> None:
    def deny(**kwargs: Any) -> Credentials:
        raise AuthError("denied")

    env.sts.assume_role = deny  # type: ignore[method-assign]
    with pytest.raises(AuthError):
        env.get("r")
    assert env.store.items == {}


def test_static_keys_are_read_by_assumer_for_names_botocore_cannot_parse(env: Env) -> None:
    name = "it's \"odd\""
    env.config = AwsConfig(
        IniFile("config", f"[profile {name}]\nregion = x\n[profile q]\nrole_arn = {R}\nsource_profile = {name}\n"),
        IniFile("credentials", f"[{name}]\naws_access_key_id = AKIAODDODDODDODDODD1\n"
                               "aws_secret_access_key = odd-secret-value-0000\n"),
    )
    env.get("q")
    assert env.sts.calls[0]["source"] == Credentials("AKIAODDODDODDODDODD1", "odd-secret-value-0000")


def test_index_rows_that_are_not_objects_are_skipped(tmp_path) -> None:
    path = tmp_path / "index.json"
    path.write_text('{"a": "not a row", "b": {"profile": "r", "kind": "session"}}', encoding="utf-8")
    assert Index(path).load() == {"b": {"profile": "r", "kind": "session"}}

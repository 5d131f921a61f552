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
[profile mfa2]
role_arn = {R2}
source_profile = u
mfa_serial = arn:aws:iam::123456789012:mfa/u
duration_seconds = 7200
[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/base
[profile viabase]
role_arn = {R}
source_profile = base
[profile viabase2]
role_arn = {R2}
source_profile = base
[profile chainmfa]
role_arn = {R2}
source_profile = r
mfa_serial = arn:aws:iam::123456789012:mfa/u
[profile tokensrc]
[profile viatoken]
role_arn = {R}
source_profile = tokensrc
mfa_serial = arn:aws:iam::123456789012:mfa/u
[profile envrole]
role_arn = {R}
credential_source = Environment
[profile bare]
region = x
"""
CREDS_FILE = ("[u]\naws_access_key_id = AKIAUUUUUUUUUUUUUUUU\naws_secret_access_key = uuuuuuuuuuuuuuuuuuuu\n"
              "[base]\naws_access_key_id = AKIABBBBBBBBBBBBBBBB\naws_secret_access_key = bbbbbbbbbbbbbbbbbbbb\n"
              "[tokensrc]\naws_access_key_id = ASIATTTTTTTTTTTTTTTT\naws_secret_access_key = tttttttttttttttttttt\n"
              "aws_session_token = a-session-token-from-elsewhere\n")
SERIAL = "arn:aws:iam::123456789012:mfa/u"


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
    token, assume = env.sts.calls
    assert (token["op"], token["mfa_serial"], token["mfa_code"]) == ("GetSessionToken", SERIAL, "654321")
    assert (assume["op"], assume["mfa_code"]) == ("AssumeRole", None)
    assert env.codes == []
    env.get("base")  # a root with mfa_serial: its own MFA session, the code from the prompt
    assert env.sts.calls[-1]["mfa_code"] == "123456" and env.codes == ["arn:aws:iam::123456789012:mfa/base"]


def test_one_code_serves_every_role_of_the_source(env: Env) -> None:
    """The source's MFA session is cached and signs every role sourced from it, with no second code."""
    first = env.get("mfa")
    env.get("mfa2")
    env.get("mfa", refresh=True)  # a new role session, the same MFA session
    assert env.codes == [SERIAL]
    assert env.ops() == ["GetSessionToken", "AssumeRole", "AssumeRole", "AssumeRole"]
    token, *assumes = env.sts.calls
    assert token["source"].access_key_id == "AKIAUUUUUUUUUUUUUUUU"
    assert token["duration"] == 8 * 3600
    session_key_id = "ASIA" + "0" * 15 + "1"  # FakeSts's first session
    for call in assumes:
        assert call["source"].access_key_id == session_key_id
        assert call["mfa_serial"] is None and call["mfa_code"] is None
    assert first.credentials.access_key_id != session_key_id
    # Not chained: the MFA session is not a role session, so no one-hour cap.
    assert assumes[1]["role_arn"] == R2 and assumes[1]["duration"] == 7200


def test_mfa_serial_on_the_source_profile_is_honoured(env: Env) -> None:
    env.get("viabase")
    env.get("viabase2")
    assert env.codes == ["arn:aws:iam::123456789012:mfa/base"]
    assert env.ops() == ["GetSessionToken", "AssumeRole", "AssumeRole"]
    assert env.sts.calls[0]["mfa_serial"] == "arn:aws:iam::123456789012:mfa/base"
    # 'env base' hands out that same MFA session: no new code, no new call.
    assert env.get("base").cached and len(env.codes) == 1 and len(env.sts.calls) == 3


def test_mfa_session_duration_from_the_environment(env: Env) -> None:
    env.environ["ASSUMER_MFA_SESSION_DURATION"] = "129600"
    env.get("mfa", mfa_code="654321")
    assert env.sts.calls[0]["duration"] == 129600
    for bad in ("899", "129601", "8h", "nan"):
        env.environ["ASSUMER_MFA_SESSION_DURATION"] = bad
        with pytest.raises(ConfigError, match="ASSUMER_MFA_SESSION_DURATION"):
            env.get("base", mfa_code="654321")


def test_the_mfa_session_is_renewed_when_it_expires(env: Env) -> None:
    env.get("mfa")
    env.now = NOW + timedelta(hours=2)  # FakeSts's sessions last an hour: MFA session and role session gone
    env.get("mfa")
    assert env.codes == [SERIAL, SERIAL]
    assert env.ops() == ["GetSessionToken", "AssumeRole", "GetSessionToken", "AssumeRole"]


def test_the_mfa_session_is_indexed_under_its_root(env: Env) -> None:
    """``add``/``remove`` clear what the index records as made from the root's keys: the MFA session too."""
    from assumer.store.cache import clear_derived

    env.get("mfa")
    rows = env.index.load()
    assert sorted(str(row["detail"]) for row in rows.values()) == sorted([R, f"MFA session ({SERIAL})"])
    assert {row["root"] for row in rows.values()} == {"u"}
    clear_derived(env.index, env.store, root="u")
    assert env.store.items == {}
    env.get("mfa2")
    assert env.codes == [SERIAL, SERIAL]


def test_a_chained_role_sends_its_own_code(env: Env) -> None:
    """A role assumed from a role session: its mfa_serial goes with its AssumeRole, as botocore sends it."""
    env.get("chainmfa")
    assert env.ops() == ["AssumeRole", "AssumeRole"]
    assert (env.sts.calls[1]["mfa_serial"], env.sts.calls[1]["mfa_code"]) == (SERIAL, "123456")


def test_a_root_that_is_already_a_session_sends_the_code_with_assume_role(env: Env) -> None:
    env.get("viatoken")
    assert env.ops() == ["AssumeRole"]
    assert (env.sts.calls[0]["mfa_serial"], env.sts.calls[0]["mfa_code"]) == (SERIAL, "123456")


def test_a_code_aws_refuses_is_asked_again_at_the_prompt(env: Env) -> None:
    from assumer.core.mfa import CodeRejected

    real = env.sts.get_session_token
    refusals = [CodeRejected("MFA failed: MultiFactorAuthentication failed")] * 2

    def refuse_twice(**kwargs: Any) -> Credentials:
        if refusals:
            env.sts.calls.append({"op": "GetSessionToken", **kwargs})
            raise refusals.pop()
        return real(**kwargs)

    env.sts.get_session_token = refuse_twice  # type: ignore[method-assign]
    env.get("mfa")
    assert env.codes == [SERIAL] * 3
    assert env.ops() == ["GetSessionToken"] * 3 + ["AssumeRole"]
    refusals.extend([CodeRejected("MFA failed")] * 3)
    with pytest.raises(CodeRejected):  # three refusals: given up
        env.get("base")
    refusals[:] = [CodeRejected("MFA failed")]
    with pytest.raises(CodeRejected):  # a code from the command line is not asked again
        env.get("base", mfa_code="111111")
    assert not refusals


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

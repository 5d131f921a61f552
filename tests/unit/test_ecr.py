"""assumer.ecr.registry: registry hosts, image references and the token cache (no services)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from assumer.credentials import Credentials
from assumer.ecr import registry as ecr, tokens
from assumer.errors import ConfigError, EngineError, KeyringError
from assumer.store.backends import NullStore
from assumer.store.cache import SessionCache
from tests.tools.fakes import MemoryStore

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, account, region, fips, dual", [
    ("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com", "123456789012", "ap-northeast-1", False, False),
    ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", False, False),
    ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/x", "123456789012", "us-east-1",
     False, False),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1", "123456789012", "eu-west-1", False, False),
    ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", True, False),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", False, False),
    ("123456789012.dkr-ecr.us-west-2.on.aws", "123456789012", "us-west-2", False, True),
    ("https://123456789012.dkr-ecr-fips.us-east-2.on.aws/", "123456789012", "us-east-2", True, True),
    ("123456789012.DKR.ECR.us-east-1.AMAZONAWS.COM", "123456789012", "us-east-1", False, False),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012", "us-east-1", False, False),
    # The credential helper's pattern takes "." or "-" after dkr, whatever the suffix.
    ("123456789012.dkr.ecr.us-east-1.on.aws", "123456789012", "us-east-1", False, False),
    ("123456789012.dkr-ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", False, True),
])
def test_parse_registry(value: str, account: str, region: str, fips: bool, dual: bool) -> None:
    parsed = ecr.parse_registry(value)
    assert (parsed.account, parsed.region, parsed.fips, parsed.dual_stack) == (account, region, fips, dual)
    assert "/" not in parsed.host and ":" not in parsed.host


@pytest.mark.parametrize("value", [
    "", "docker.io", "12345678901.dkr.ecr.us-east-1.amazonaws.com", "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", "123456789012.ecr.us-east-1.amazonaws.com",
    "public.ecr.aws", "127.0.0.1:5000", "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",
    "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com\nevil.example",
])
def test_parse_registry_rejects_other_hosts_with_a_clear_error(value: str) -> None:
    with pytest.raises(ConfigError, match="is not an ECR registry host") as caught:
        ecr.parse_registry(value)
    assert "ACCOUNT.dkr.ecr.REGION.amazonaws.com" in str(caught.value)


# amazon-ecr-credential-helper, ecr-login/api/client_test.go, TestExtractRegistry: its cases, verbatim.
@pytest.mark.parametrize("server_url, account, region, fips", [
    ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/blah/blah", "123456789012", "us-east-1", False),
    ("123456789012.dkr.ecr.us-west-2.amazonaws.com", "123456789012", "us-west-2", False),
    ("210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/foo", "210987654321", "cn-north-1", False),
    ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", True),
    (".dkr.ecr.not-real.amazonaws.com", None, None, None),
    ("not.ecr.io", None, None, None),
])
def test_hosts_of_the_ecr_credential_helpers_own_tests(server_url: str, account: str | None, region: str | None,
                                                        fips: bool | None) -> None:
    found = ecr.find_registry(server_url)
    if account is None:
        assert found is None
    else:
        assert found is not None and (found.account, found.region, found.fips) == (account, region, fips)


# One host per partition suffix of the helper's pattern, and the partition each belongs to.
@pytest.mark.parametrize("host, partition", [
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "aws"),
    ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "aws-us-gov"),
    ("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", "aws-us-gov"),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn"),
    ("123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "aws-cn"),
    ("123456789012.dkr-ecr.us-west-2.on.aws", "aws"),
    ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc"),
    ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso"),
    ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "aws-iso-b"),
    ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "aws-iso-e"),
    ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "aws-iso-f"),
])
def test_every_partitions_hosts_are_ecr_hosts(host: str, partition: str) -> None:
    found = ecr.find_registry(f"https://{host.upper()}/v2/")
    assert found is not None and found.host == host and found.partition == partition


# ecr_host_parts reads an ASCII host with str methods, not the pattern: the two must agree on every
# string. Hosts are built from the pattern's pieces, then up to three characters are replaced,
# inserted or deleted and each character's case is drawn: the edits use the pattern's own
# characters, and non-ASCII look-alikes that its \d and IGNORECASE accept or that fold to ASCII.
_LOOKALIKES = "\u017f\u212a\u0130\u0131\u0661\U0001d7d8\u0307"  # long s, Kelvin, dotted/dotless i, digits
_host_pieces = st.tuples(
    st.text(alphabet="0123456789", min_size=12, max_size=12),
    st.sampled_from([".dkr.ecr", ".dkr-ecr"]),
    st.sampled_from(["", "-fips"]),
    st.just("."),
    st.sampled_from(["us-east-1", "us-gov-west-1", "cn-north-1", "eu-isoe-west-1"]) | st.text(alphabet="az09-_"),
    st.just("."),
    st.sampled_from(sorted(ecr._ECR_SUFFIXES)),
)
_edits = st.lists(st.tuples(st.integers(0, 70), st.sampled_from(["replace", "insert", "delete"]),
                            st.sampled_from("0123456789acdefiknrsuwz-_.:/\n " + _LOOKALIKES)), max_size=3)


def _edited(text: str, edits: list[tuple[int, str, str]]) -> str:
    for position, edit, char in edits:
        at = min(position, len(text))
        text = text[:at] + ("" if edit == "delete" else char) + text[at + (edit != "insert"):]
    return text


@settings(max_examples=1000, deadline=None)
@given(pieces=_host_pieces, edits=_edits, cases=st.lists(st.booleans(), max_size=70))
def test_the_host_rule_read_with_str_methods_is_the_pattern(pieces: tuple[str, ...], edits: list[tuple[int, str, str]],
                                                            cases: list[bool]) -> None:
    text = _edited("".join(pieces), edits)
    upper = {at for at, flag in enumerate(cases) if flag}
    host = "".join(c.upper() if at in upper else c for at, c in enumerate(text))
    match = re.compile(ecr._ECR_HOST, re.IGNORECASE).fullmatch(host)
    expected = (match.group(1), bool(match.group(2)), match.group(3), match.group(4)) if match else None
    assert ecr.ecr_host_parts(host) == expected
    if host.isascii():
        assert ecr._ecr_host_ascii(host) == expected


@pytest.mark.parametrize("value", ["public.ecr.aws", "https://public.ecr.aws/v2/", "PUBLIC.ECR.AWS:443"])
def test_ecr_public(value: str) -> None:
    assert ecr.is_public_ecr(value)
    assert not ecr.is_public_ecr("public.ecr.aws.evil.example")


@pytest.mark.parametrize("value, host", [
    ("127.0.0.1:5000", "127.0.0.1:5000"), ("https://mirror.example/v2/", "mirror.example"),
    ("Registry.Example:443", "registry.example:443"), ("[::1]:5000", "[::1]:5000"), ("localhost", "localhost"),
])
def test_check_host_accepts_any_host(value: str, host: str) -> None:
    assert ecr.check_host(value) == host


@pytest.mark.parametrize("value", ["", "https://", "bad host", "a..b", "-x.example", "h:port"])
def test_check_host_rejects_garbage(value: str) -> None:
    with pytest.raises(ConfigError, match="--registry"):
        ecr.check_host(value)


@pytest.mark.parametrize("region, host", [
    ("ap-northeast-1", "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"),
    ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ("us-gov-west-1", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
    ("us-iso-east-1", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ("us-isob-east-1", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
    ("eu-isoe-west-1", "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
    ("us-isof-south-1", "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov"),
    ("eusc-de-east-1", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
    ("ap-future-9", "123456789012.dkr.ecr.ap-future-9.amazonaws.com"),  # by the aws partition's pattern
])
def test_default_host_per_partition(region: str, host: str) -> None:
    assert ecr.default_host("123456789012", region) == host
    assert ecr.find_registry(host) is not None  # the default registry is one the host rule accepts


@pytest.mark.parametrize("arn, account", [
    ("arn:aws:iam::123456789012:role/R", "123456789012"), ("arn:aws-cn:iam::210987654321:role/a/b", "210987654321"),
    (None, None), ("not-an-arn", None), ("arn:aws:iam::abc:role/R", None),
])
def test_account_of(arn: str | None, account: str | None) -> None:
    assert ecr.account_of(arn) == account


@pytest.mark.parametrize("image, repository, tag", [
    ("localhost/app:latest", "app", "latest"),
    ("app", "app", "latest"),
    ("app:1.2", "app", "1.2"),
    ("team/app:v1", "team/app", "v1"),
    ("registry.example:5000/team/app:v1", "team/app", "v1"),
    ("nginx", "nginx", "latest"),
    ("docker.io/library/nginx:1", "nginx", "1"),
    ("localhost:5000/app", "app", "latest"),
    ("localhost/app@sha256:" + "a" * 64, "app", "latest"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:old", "app", "old"),
])
def test_image_destination_follows_design(image: str, repository: str, tag: str) -> None:
    target = ecr.image_destination(image, "H:1")
    assert (target.repository, target.tag) == (repository, tag)
    assert target.reference() == f"H:1/{repository}:{tag}"


def test_image_destination_overrides() -> None:
    destination = ecr.image_destination("localhost/app:latest", "h", repository="other/x", tag="v9")
    assert destination.reference() == "h/other/x:v9"


@pytest.mark.parametrize("kwargs, message", [
    ({"repository": "Upper"}, "not a valid repository name"),
    ({"repository": "a//b"}, "not a valid repository name"),
    ({"tag": "-bad"}, "not a valid tag"),
    ({"tag": "x" * 129}, "not a valid tag"),
])
def test_image_destination_rejects_bad_names(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ecr.image_destination("localhost/app:latest", "h", **kwargs)


# -- tokens --------------------------------------------------------------------------


def item(password: str = "s3cret-token", expires: object = NOW + timedelta(hours=12)) -> dict:
    raw = base64.b64encode(f"AWS:{password}".encode()).decode()
    return {"authorizationToken": raw, "expiresAt": expires,
            "proxyEndpoint": "https://123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"}


def test_decode_token() -> None:
    token = tokens.decode_token(item())
    assert (token.username, token.password, token.expires_at) == ("AWS", "s3cret-token", NOW + timedelta(hours=12))
    assert "s3cret" not in repr(token)


@pytest.mark.parametrize("expires", [1767268800, "2026-01-01T12:00:00Z", datetime(2026, 1, 1, 12, tzinfo=timezone.utc)])
def test_decode_token_expiry_forms(expires: object) -> None:
    assert tokens.decode_token(item(expires=expires)).expires_at == NOW


def test_decode_token_without_expiry_is_stale() -> None:
    data = item()
    del data["expiresAt"]
    assert not tokens.decode_token(data).usable(NOW)


@pytest.mark.parametrize("raw", ["!!!", base64.b64encode(b"nocolon").decode(), base64.b64encode(b":pw").decode()])
def test_decode_token_malformed(raw: str) -> None:
    with pytest.raises(EngineError):
        tokens.decode_token({"authorizationToken": raw})


def test_decode_token_registers_the_password_for_redaction() -> None:
    from assumer import logs

    tokens.decode_token(item(password="redact-me-please"))
    assert "redact-me-please" not in logs.redact("x redact-me-please y")


def test_token_json_round_trip_and_corruption() -> None:
    token = tokens.decode_token(item())
    assert tokens.Token.from_json(token.to_json()) == token
    for bad in ("", "[]", '{"Username": "AWS"}', '{"Username":"a","Password":"b","ExpiresAt":"never"}'):
        with pytest.raises(ValueError):
            tokens.Token.from_json(bad)


def test_usable_means_more_than_thirty_minutes_left() -> None:
    token = tokens.decode_token(item(expires=NOW + timedelta(minutes=31)))
    assert token.usable(NOW)
    assert not token.usable(NOW + timedelta(minutes=1, seconds=1))


@dataclass(frozen=True)
class FakeSession:
    profile: str = "r"
    role_arn: str | None = "arn:aws:iam::123456789012:role/R"
    region: str | None = "ap-northeast-1"
    cache_key: str = "session:of-role-r"
    root: str | None = "u"


class Fetcher:
    def __init__(self, *tokens: dict) -> None:
        self.tokens = list(tokens)
        self.calls: list[tokens.Where] = []

    def __call__(self, session: object, where: tokens.Where) -> tokens.Token:
        self.calls.append(where)
        return tokens.decode_token(self.tokens.pop(0))


def cache() -> SessionCache:
    return SessionCache(MemoryStore(), None)


def test_token_for_default_registry_is_the_roles_account_and_region() -> None:
    fetch = Fetcher(item())
    result = tokens.token_for(FakeSession(), None, cache=cache(), now=lambda: NOW, fetch=fetch)
    assert result.host == "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
    assert fetch.calls == [tokens.Where(result.host, "123456789012", "ap-northeast-1")]


HOST = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"


def test_token_for_is_cached_per_registry_and_session() -> None:
    store = cache()
    fetch = Fetcher(item(password="first"), item(password="second"), item(password="third"))
    first = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch)
    again = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch)
    # Same profile name, pointed at another role: its session has another key, so the token is not served.
    other = tokens.token_for(FakeSession(role_arn="arn:aws:iam::123456789012:role/Other", cache_key="session:other"),
                             HOST, cache=store, now=lambda: NOW, fetch=fetch)
    assert (first.cached, first.stored, again.cached, other.cached) == (False, True, True, False)
    assert again.token.password == "first" and other.token.password == "second"
    later = NOW + timedelta(hours=11, minutes=31)  # 29 minutes left: minted again
    again = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: later, fetch=fetch)
    assert again.token.password == "third"


def test_stale_token_is_returned_but_not_cached() -> None:
    store = cache()
    fetch = Fetcher(item(expires=datetime(2015, 1, 1, tzinfo=timezone.utc)), item(password="fresh"))
    stale = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch)
    assert (stale.token.password, stale.stored) == ("s3cret-token", False)
    assert store.store.items == {}
    assert tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch).token.password == "fresh"


def test_a_token_the_keyring_refused_is_not_reported_as_stored() -> None:
    class Refusing(MemoryStore):
        def set(self, username: str, secret: str) -> None:
            raise KeyringError("cannot write to the keyring: locked")

    fetch = Fetcher(item())
    result = tokens.token_for(FakeSession(), HOST, cache=SessionCache(Refusing(), None), now=lambda: NOW, fetch=fetch)
    # ecr-push then hands the token to the helper in the engine's environment.
    assert (result.cached, result.stored) == (False, False)
    no_cache = tokens.token_for(FakeSession(), HOST, cache=SessionCache(NullStore(), None), now=lambda: NOW,
                             fetch=Fetcher(item()))
    assert no_cache.stored is False


def test_refresh_ignores_the_cache() -> None:
    store = cache()
    fetch = Fetcher(item(password="a"), item(password="b"))
    tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch)
    refreshed = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=fetch, refresh=True)
    assert refreshed.token.password == "b"


def test_corrupt_cached_token_is_dropped() -> None:
    store = cache()
    key = tokens.token_cache_key(HOST, FakeSession().cache_key, "ap-northeast-1")
    store.store.set(key, "garbage")
    result = tokens.token_for(FakeSession(), HOST, cache=store, now=lambda: NOW, fetch=Fetcher(item()))
    assert not result.cached
    assert tokens.Token.from_json(store.store.items[key]).password == "s3cret-token"


def test_explicit_ecr_host_names_its_own_account_and_region() -> None:
    fetch = Fetcher(item())
    tokens.token_for(FakeSession(), "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com", cache=cache(),
                  now=lambda: NOW, fetch=fetch)
    assert fetch.calls[0] == tokens.Where("210987654321.dkr.ecr.eu-west-1.amazonaws.com", "210987654321", "eu-west-1")


@pytest.mark.parametrize("registry", ["123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                                      "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
                                      "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"])
def test_a_host_in_another_partition_is_refused(registry: str) -> None:
    fetch = Fetcher(item())
    with pytest.raises(ConfigError, match="is in partition") as caught:
        tokens.token_for(FakeSession(), registry, cache=cache(), now=lambda: NOW, fetch=fetch)
    assert caught.value.exit_code == 3 and fetch.calls == []


def test_a_host_in_the_sessions_own_partition_is_asked_there() -> None:
    fetch = Fetcher(item())
    gov = FakeSession(role_arn="arn:aws-us-gov:iam::123456789012:role/R", region="us-gov-west-1")
    tokens.token_for(gov, "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", cache=cache(),
                     now=lambda: NOW, fetch=fetch)
    assert fetch.calls == [tokens.Where("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", "123456789012",
                                        "us-gov-east-1")]


@pytest.mark.parametrize("registry", ["127.0.0.1:5000", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
                                      "https://mirror.example/v2/"])
def test_any_other_host_is_refused_unless_opted_in(registry: str) -> None:
    fetch = Fetcher(item())
    with pytest.raises(ConfigError, match="is not an ECR registry") as caught:
        tokens.token_for(FakeSession(), registry, cache=cache(), now=lambda: NOW, fetch=fetch)
    assert "--allow-non-ecr-registry" in str(caught.value) and "\n" not in str(caught.value)
    assert fetch.calls == []
    result = tokens.token_for(FakeSession(), registry, cache=cache(), now=lambda: NOW, fetch=fetch, allow_non_ecr=True)
    assert fetch.calls == [tokens.Where(result.host, None, "ap-northeast-1", ecr=False)]


def test_ecr_public_is_refused_naming_ecr_public() -> None:
    with pytest.raises(ConfigError, match="aws ecr-public get-login-password"):
        tokens.token_for(FakeSession(), "public.ecr.aws", cache=cache(), now=lambda: NOW, fetch=Fetcher(),
                         allow_non_ecr=True)


def test_profile_without_role_takes_the_registry_from_ecrs_answer() -> None:
    fetch = Fetcher(item())
    result = tokens.token_for(FakeSession(role_arn=None), None, cache=cache(), now=lambda: NOW, fetch=fetch)
    assert result.host == "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
    assert len(fetch.calls) == 1


def test_no_region_and_no_registry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="has no region"):
        tokens.token_for(FakeSession(region=None), None, cache=cache(), now=lambda: NOW, fetch=Fetcher())


@pytest.mark.parametrize("override", [{"tag": "v1\n"}, {"repository": "app\n"}])
def test_a_final_newline_is_not_a_valid_tag_or_repository(override: dict) -> None:
    with pytest.raises(ConfigError):
        ecr.image_destination("app", "h:1", **override)


def test_the_readme_states_the_host_rule_the_code_applies() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"```\n{ecr._ECR_HOST}\n```" in readme


class _Sts:
    """Hands out one session per call (a stand-in for STS, for the key check below)."""

    def assume_role(self, **kwargs: object) -> Credentials:
        return Credentials("ASIAXXXXXXXXXXXXXXXX", "secret", "token", NOW + timedelta(hours=1))

    get_session_token = assume_role

    def profile_credentials(self, profile: str) -> Credentials:
        return Credentials("AKIAUUUUUUUUUUUUUUUU", "uuuuuuuuuuuuuuuuuuuu")


@pytest.mark.parametrize("profile, options", [
    ("r", {}), ("r", {"duration": 7200, "region": "eu-west-1"}), ("r2", {}), ("u", {"duration": 1800}),
])
def test_the_helpers_token_key_is_the_key_of_the_session_that_mints_it(
        profile: str, options: dict, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper looks a token up by the key of the session get_session would give (Session.cache_key)."""
    from assumer.core.profiles import AwsConfig, IniFile
    from assumer.core.session import SessionOptions, get_session, resolve
    from tests.tools import awsconfig

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    config = AwsConfig(IniFile("config", awsconfig.standard_config()),
                       IniFile("credentials", awsconfig.credentials("u", "AKIAUUUUUUUUUUUUUUUU", "u" * 20)))
    session_options = SessionOptions(**options)
    found = get_session(profile, session_options, config=config, cache=cache(), keys=MemoryStore(),
                        environ={}, now=lambda: NOW, sts_api=_Sts())
    target = resolve(profile, session_options, config=config, environ={})
    assert found.cache_key
    assert tokens.session_key_of(target, session_options, config=config, environ={}) == found.cache_key

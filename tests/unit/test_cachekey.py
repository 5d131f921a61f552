"""Cache keys: what decides a session is in its key, and nothing secret is.

The user flows (keys changed in the file, ``add``/``remove``, endpoints) run against
moto and the real keyring in tests/integration/test_cache_identity.py; these are the
root kinds and settings the suite has no real service for (SSO, credential_process,
web identity) and the index rows behind ``clear``, ``add`` and ``remove``.
"""

from __future__ import annotations

import json

import pytest

from assumer.core.cachekey import endpoint_part, fingerprint, root_part, session_key
from assumer.core.profiles import AwsConfig, IniFile
from assumer.core.session import SessionOptions, resolve
from assumer.credentials import Credentials
from assumer.errors import ConfigError
from assumer.store.cache import Index, SessionCache, clear, clear_derived
from tests.tools.fakes import MemoryStore

R = "arn:aws:iam::123456789012:role/R"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def config(extra_config: str = "", credentials: str = "") -> AwsConfig:
    text = f"[profile u]\nregion = ap-northeast-1\n[profile r]\nrole_arn = {R}\nsource_profile = u\n{extra_config}"
    creds = credentials or f"[u]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
    return AwsConfig(IniFile("config", text), IniFile("credentials", creds))


def key(aws: AwsConfig, profile: str = "r", environ: dict[str, str] | None = None) -> str:
    return session_key(aws.resolve(profile), environ=environ or {}, config=aws)


def test_the_key_of_a_role_follows_the_root_key_id_not_the_secret() -> None:
    base = key(config())
    other_id = config(credentials=f"[u]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = {SECRET}\n")
    other_secret = config(credentials=f"[u]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = x{SECRET}\n")
    assert key(other_id) != base
    assert key(other_secret) == base  # the same principal's key: the secret never enters the key
    assert key(config(), "u") != key(other_id, "u")  # GetSessionToken too


def test_no_secret_and_no_key_id_in_the_parts() -> None:
    aws = config()
    parts = json.dumps([root_part(aws.resolve("u"), aws, {}), endpoint_part("r", aws, {})])  # type: ignore[arg-type]
    assert KEY_ID not in parts and SECRET not in parts
    assert fingerprint(KEY_ID) in parts and len(fingerprint(KEY_ID)) == 16


@pytest.mark.parametrize("root", [
    "credential_process = /bin/creds --account a",
    "sso_start_url = https://a.awsapps.com/start\nsso_account_id = 111111111111\nsso_role_name = Admin\n"
    "sso_region = us-east-1",
    "web_identity_token_file = /var/run/token-a",
])
def test_roots_without_static_keys_are_identified_by_their_settings(root: str) -> None:
    def aws(account: str) -> AwsConfig:
        text = f"[profile r]\nrole_arn = {R}\nsource_profile = s\n[profile s]\n{root.replace('a', account)}\n"
        return AwsConfig(IniFile("config", text), IniFile("credentials", ""))

    assert key(aws("a")) == key(aws("a"))
    assert key(aws("a")) != key(aws("b"))


def test_an_sso_session_section_is_part_of_the_root() -> None:
    def aws(url: str) -> AwsConfig:
        text = (f"[profile r]\nrole_arn = {R}\nsource_profile = s\n[profile s]\nsso_session = corp\n"
                f"sso_account_id = 111111111111\nsso_role_name = Admin\n"
                f"[sso-session corp]\nsso_start_url = {url}\nsso_region = us-east-1\n")
        return AwsConfig(IniFile("config", text), IniFile("credentials", ""))

    assert key(aws("https://a.awsapps.com/start")) != key(aws("https://b.awsapps.com/start"))


def test_the_environment_root_is_its_key_id() -> None:
    aws = AwsConfig(IniFile("config", f"[profile e]\nrole_arn = {R}\ncredential_source = Environment\n"),
                    IniFile("credentials", ""))
    first = key(aws, "e", {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})
    assert first == key(aws, "e", {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": "other"})
    assert first != key(aws, "e", {"AWS_ACCESS_KEY_ID": "AKIAOTHEROTHEROTHER1", "AWS_SECRET_ACCESS_KEY": SECRET})


@pytest.mark.parametrize("setting", [
    "endpoint_url = https://sts.example.com",
    "services = alt",
    "use_fips_endpoint = true",
    "sts_regional_endpoints = legacy",
])
def test_the_profiles_endpoint_settings_are_part_of_the_key(setting: str) -> None:
    services = "[services alt]\nsts =\n  endpoint_url = https://sts.example.com\n"
    assert key(config(f"{setting}\n{services}")) != key(config(services))


def test_the_services_sections_sts_endpoint_is_part_of_the_key() -> None:
    def aws(url: str) -> AwsConfig:
        return config(f"services = alt\n[services alt]\nsts =\n  endpoint_url = {url}\n")

    assert key(aws("https://a.example.com")) != key(aws("https://b.example.com"))


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_USE_FIPS_ENDPOINT"])
def test_the_environments_endpoint_is_part_of_the_key(variable: str) -> None:
    assert key(config(), environ={variable: "x"}) != key(config())


def test_an_arn_target_takes_the_endpoint_of_its_source_profile() -> None:
    plain = config()
    pointed = AwsConfig(IniFile("config", "[profile u]\nendpoint_url = https://sts.example.com\n"), plain.credentials)
    assert session_key(plain.resolve(R, source_profile="u"), environ={}, config=plain) != session_key(
        pointed.resolve(R, source_profile="u"), environ={}, config=pointed)


def test_profiles_with_the_same_settings_share_a_key_and_the_index_lists_both(tmp_path) -> None:
    aws = config(f"[profile rcopy]\nrole_arn = {R}\nsource_profile = u\n")
    assert key(aws, "r") == key(aws, "rcopy")
    store, index = MemoryStore(), Index(tmp_path / "index.json")
    cache = SessionCache(store, index)
    shared = key(aws, "r")
    cache.put(shared, Credentials("ASIA1", "s", "t"), profile="r", kind="session", root="u")
    cache.put(shared, Credentials("ASIA2", "s", "t"), profile="rcopy", kind="session", root="u")
    assert index.load()[shared]["profiles"] == ["r", "rcopy"]
    assert clear(index, store, profile="r") == ["r", "rcopy"]
    assert store.get(shared) is None and index.load() == {}


def test_clear_deletes_the_key_a_profile_makes_now_even_without_its_row(tmp_path) -> None:
    store, index = MemoryStore(), Index(tmp_path / "index.json")
    store.set("session:k", "{}")
    assert clear(index, store, profile="rcopy", keys=["session:k"]) == ["rcopy"]
    assert store.get("session:k") is None


def test_clear_derived_takes_the_roots_sessions_and_rows_of_unknown_origin(tmp_path) -> None:
    store, index = MemoryStore(), Index(tmp_path / "index.json")
    cache = SessionCache(store, index)
    for name, root in (("from-u", "u"), ("from-w", "w")):
        cache.put(f"session:{name}", Credentials("ASIA1", "s", "t"), profile=name, kind="session", root=root)
    cache.put_text("ecr:t", "token", profile="r", kind="ecr", detail="host", expiration="")
    assert clear_derived(index, store, root="u") == ["from-u", "r"]
    assert list(index.load()) == ["session:from-w"]
    assert store.get("session:from-w") is not None


def test_the_digest_without_openssl_is_sha256() -> None:
    import hashlib

    from assumer.digest import sha256, sha256_hex

    for data in (b"", b"abc", bytes(range(256)) * 5):
        assert sha256(data) == hashlib.sha256(data).digest()
        assert sha256_hex(data) == hashlib.sha256(data).hexdigest()


def test_the_default_session_name_is_getpass_user(monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from assumer.core.cachekey import default_session_name

    assert default_session_name() == f"assumer-{getpass.getuser()}"[:64].replace(" ", "-")
    monkeypatch.setenv("LOGNAME", "a b/c")
    assert default_session_name() == "assumer-a-b-c"


def test_the_mfa_session_key_one_per_root_and_device() -> None:
    """The source's MFA session: the same key whether a role or 'env u' asks, its duration in it (issue 12)."""
    from assumer.core.cachekey import mfa_session_key
    from assumer.core.profiles import RoleSpec, Source

    serial = "arn:aws:iam::123456789012:mfa/u"
    aws = AwsConfig(
        IniFile("config", f"[profile u]\nmfa_serial = {serial}\n[profile m]\nrole_arn = {R}\nsource_profile = u\n"
                          f"[profile m2]\nrole_arn = {R}\nsource_profile = u\nrole_session_name = other\n"),
        IniFile("credentials", f"[u]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"))
    role = aws.resolve("m")
    assert isinstance(role, RoleSpec) and isinstance(role.source, Source)
    own = key(aws, "u")  # 'env u': the root's own MFA session
    assert own == mfa_session_key(role.source, serial, environ={}, config=aws)
    assert own != key(aws, "u", {"ASSUMER_MFA_SESSION_DURATION": "3600"})  # another duration, another session
    # A role's key names the device it is signed through, not the MFA session's duration.
    assert key(aws, "m") == key(aws, "m", {"ASSUMER_MFA_SESSION_DURATION": "3600"})
    assert key(aws, "m") != key(config(), "r")
    with pytest.raises(ConfigError, match="ASSUMER_MFA_SESSION_DURATION"):
        key(aws, "u", {"ASSUMER_MFA_SESSION_DURATION": "129601"})


# Keys written by this release for a config covering every kind of chain. A change to how
# a key is computed (a refactor, a faster encoder on the cache-hit path) must leave these
# exactly as they are: a different key would orphan every user's cached sessions on upgrade
# or, worse, could make two different chains share one. Change KEY_VERSION and these
# values together, on purpose, or not at all.
GOLDEN_CONFIG = """\
[profile u]
region = ap-northeast-1
mfa_serial = arn:aws:iam::123456789012:mfa/u
[profile r]
role_arn = arn:aws:iam::123456789012:role/R
source_profile = u
[profile chained]
role_arn = arn:aws:iam::123456789012:role/Chained
source_profile = r
role_session_name = chain-session
duration_seconds = 1200
[profile mfa-role]
role_arn = arn:aws:iam::210987654321:role/Mfa
source_profile = plain
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile plain]
region = us-east-2
[profile ext]
role_arn = arn:aws:iam::123456789012:role/Ext
source_profile = plain
external_id = ext-123
source_identity = alice
region = eu-central-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile sso-root]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Admin
[profile proc-role]
role_arn = arn:aws:iam::123456789012:role/Proc
source_profile = proc
[profile proc]
credential_process = /bin/creds --account a
[profile env-role]
role_arn = arn:aws:iam::123456789012:role/Env
credential_source = Environment
[services local]
sts =
  endpoint_url = http://127.0.0.1:9
[profile svc-role]
role_arn = arn:aws:iam::123456789012:role/Svc
source_profile = plain
services = local
use_fips_endpoint = false
[profile arn-ish]
role_arn = arn:aws:iam::123456789012:role/Other
source_profile = chained
[profile web]
web_identity_token_file = /var/run/token
role_arn = arn:aws:iam::123456789012:role/Web
"""
GOLDEN_CREDENTIALS = """\
[u]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
[plain]
aws_access_key_id = AKIAPLAINPLAINPLAIN1
aws_secret_access_key = x
"""
GOLDEN_ENVIRON = {"USER": "alice", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1",
                  "AWS_ACCESS_KEY_ID": "AKIAENVENVENVENVENV1"}
GOLDEN_KEYS = [
    ('u', None, None, "session:230cf49f58e254d74ff947b60be47dfb1a303855"),
    ('u', 1800, 'eu-west-1', "session:cc70b2a76ad034ab4456268edb2477e62df4cc56"),
    ('r', None, None, "session:ddc7e71be6845f35667f6e6c1162417dcf4aa799"),
    ('r', 1800, 'eu-west-1', "session:230ec308e7bb8779ce29476453a46cdf571b0236"),
    ('chained', None, None, "session:1d69e41edbfee94575acaddf5168ef7488483ee5"),
    ('chained', 1800, 'eu-west-1', "session:871573b4cf1d462994f8268fca9f5fbd0bbf84be"),
    ('mfa-role', None, None, "session:2df27b6e38ffc8c83fbe7df90dcdbaf03a0a27b2"),
    ('mfa-role', 1800, 'eu-west-1', "session:f90d9dbe315f220b03d17a30bcda53b67939e21e"),
    ('ext', None, None, "session:7eb39f42b1ebb85d9b189ed131ebd0cf122c82a5"),
    ('ext', 1800, 'eu-west-1', "session:d8e0116ea8297db0f83cda9a7cda340100c474cc"),
    ('sso-root', None, None, "session:9b4661622bf7bcc738d50ca0fbe70a9d00df9eed"),
    ('sso-root', 1800, 'eu-west-1', "session:8e7d68774682d4c5b537f80e2993684baf29d1a8"),
    ('proc-role', None, None, "session:969a2d9598cbbc14fc3f823f27f5f70f1d1e5989"),
    ('proc-role', 1800, 'eu-west-1', "session:4d9cb83b364c1bc2e32c7a0c16b530bac92b2783"),
    ('env-role', None, None, "session:537ddddff4a6c9db1235d2d6d84ea0bd99986b1f"),
    ('env-role', 1800, 'eu-west-1', "session:ade3aea664e222d262b23c21d9b90677a9b7cd78"),
    ('svc-role', None, None, "session:55067586416bfaa817e98a0e57e9a40543b3185a"),
    ('svc-role', 1800, 'eu-west-1', "session:7fcef3e919d0273aac3472a45f3517417685b4d7"),
    ('arn-ish', None, None, "session:bc81489ba2d63ec0c45b682702683fd8feb2df7a"),
    ('arn-ish', 1800, 'eu-west-1', "session:9a4cfc5f41eafdb08a1390a570fc7ca27cbf3221"),
    ('web', None, None, "session:02857ab44558910f464a770936e3e8338d0db2e1"),
    ('web', 1800, 'eu-west-1', "session:0932530b701ef396b156683aafd1c9d6762b5466"),
]


@pytest.mark.parametrize(("profile", "duration", "region", "expected"), GOLDEN_KEYS)
def test_keys_are_stable_across_releases(profile: str, duration: int | None, region: str | None,
                                         expected: str) -> None:
    aws = AwsConfig(IniFile("config", GOLDEN_CONFIG), IniFile("credentials", GOLDEN_CREDENTIALS))
    options = SessionOptions(duration=duration, region=region)
    target = resolve(profile, options, config=aws, environ=GOLDEN_ENVIRON)
    assert session_key(target, environ=GOLDEN_ENVIRON, config=aws, token_duration=duration) == expected

"""Profile resolution: config + credentials files -> RoleSpec chains (no network)."""

from __future__ import annotations

import pytest

from assumer.core.profiles import AwsConfig, IniFile, RoleSpec, Source, config_paths
from assumer.errors import ConfigError

R = "arn:aws:iam::123456789012:role/R"
R2 = "arn:aws:iam::123456789012:role/R2"

CONFIG = f"""
[default]
region = eu-west-1

[profile u]
region = ap-northeast-1

[profile r]
role_arn = {R}
source_profile = u
region = ap-northeast-1
mfa_serial = arn:aws:iam::123456789012:mfa/u
external_id = ext-1
role_session_name = me@laptop
duration_seconds = 1800
source_identity = alice

[profile r2]
role_arn = {R2}
source_profile = r
s3 =
  max_concurrent_requests = 20

[profile envrole]
role_arn = {R}
credential_source = Environment
"""

CREDENTIALS = """
[u]
aws_access_key_id = AKIAEXAMPLEEXAMPLE12
aws_secret_access_key = secretsecretsecretsecret
"""


def config(text: str = CONFIG, credentials: str = CREDENTIALS) -> AwsConfig:
    return AwsConfig(IniFile("config", text), IniFile("credentials", credentials))


def test_role_profile_resolves_every_key() -> None:
    spec = config().resolve("r")
    assert isinstance(spec, RoleSpec)
    assert spec.role_arn == R
    assert spec.mfa_serial == "arn:aws:iam::123456789012:mfa/u"
    assert spec.external_id == "ext-1"
    assert spec.session_name == "me@laptop"
    assert spec.duration_seconds == 1800
    assert spec.source_identity == "alice"
    assert spec.region == "ap-northeast-1"
    assert spec.source == Source(profile="u", has_file_credentials=True, region="ap-northeast-1",
                                 provider="credentials_file")
    assert not spec.chained


def test_chain_of_roles_is_chained_and_root_first() -> None:
    spec = config().resolve("r2")
    assert isinstance(spec, RoleSpec) and spec.chained
    assert [link.profile for link in spec.chain()] == ["u", "r", "r2"]
    assert spec.duration_seconds == 3600  # default; a nested block does not break parsing


def test_credential_source_environment() -> None:
    spec = config().resolve("envrole")
    assert isinstance(spec, RoleSpec)
    assert spec.source == Source(profile="envrole", kind="environment")


def test_role_arn_with_source_profile() -> None:
    spec = config().resolve(R2, source_profile="r")
    assert isinstance(spec, RoleSpec) and spec.role_arn == R2 and spec.source.profile == "r"


def test_command_line_overrides_apply_to_the_target_only() -> None:
    spec = config().resolve("r2", duration=900, region="us-west-2")
    assert spec.duration_seconds == 900 and spec.region == "us-west-2"
    assert spec.source.duration_seconds == 1800 and spec.source.region == "ap-northeast-1"


def test_unknown_profile_suggests_close_names() -> None:
    with pytest.raises(ConfigError, match="unknown profile 'r3'") as info:
        config().resolve("r3")
    assert "r2" in str(info.value)


def test_source_profile_loop_names_the_profiles() -> None:
    text = f"[profile a]\nrole_arn = {R}\nsource_profile = b\n[profile b]\nrole_arn = {R}\nsource_profile = a\n"
    with pytest.raises(ConfigError, match="loop: a -> b -> a"):
        config(text, "").resolve("a")


def test_missing_source_profile() -> None:
    with pytest.raises(ConfigError, match="names source_profile 'ghost'"):
        config(f"[profile a]\nrole_arn = {R}\nsource_profile = ghost\n", "").resolve("a")


@pytest.mark.parametrize("arn", ["arn:aws:iam::12:role/R", "role/R", "arn:aws:iam::123456789012:user/U"])
def test_bad_role_arn_names_file_and_line(arn: str) -> None:
    with pytest.raises(ConfigError, match=r"config:2: .* is not a role ARN"):
        config(f"[profile a]\nrole_arn = {arn}\nsource_profile = u\n[profile u]\n", "").resolve("a")


def test_arn_without_source_profile_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--source-profile"):
        config().resolve(R)


@pytest.mark.parametrize("value", ["100", "50000", "soon"])
def test_bad_duration(value: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        config(f"[profile a]\nrole_arn = {R}\nsource_profile = u\nduration_seconds = {value}\n[profile u]\n",
               "").resolve("a")


def test_bad_duration_on_the_command_line() -> None:
    with pytest.raises(ConfigError, match="--duration: duration 100 is outside"):
        config().resolve("r", duration=100)


def test_malformed_file_names_file_and_line() -> None:
    with pytest.raises(ConfigError, match="config:3: expected 'key = value'"):
        config("[profile a]\nregion = x\nthis is not a setting\n", "").resolve("a")


def test_setting_before_section() -> None:
    with pytest.raises(ConfigError, match="config:1: a setting before any"):
        IniFile("config", "region = x\n")


def test_bad_session_name() -> None:
    with pytest.raises(ConfigError, match="role_session_name"):
        config(f"[profile a]\nrole_arn = {R}\nsource_profile = u\nrole_session_name = has space\n[profile u]\n",
               "").resolve("a")


def test_profile_names_from_both_files_in_order() -> None:
    assert config().profile_names() == ["default", "u", "r", "r2", "envrole"]


def test_credentials_file_overrides_config_and_comments_are_ignored() -> None:
    cfg = config("[profile u]\n# a comment\n; another\nregion = a\n", "[u]\nregion = b\n")
    assert cfg.settings("u")["region"].text == "b"


def test_role_without_source_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no source_profile or credential_source"):
        config(f"[profile a]\nrole_arn = {R}\n", "").resolve("a")


def test_many_profiles_parse_only_what_is_needed() -> None:
    text = "".join(f"[profile p{i}]\nrole_arn = {R}\nsource_profile = u\n" for i in range(2000)) + "[profile u]\n"
    cfg = config(text, "")
    cfg.resolve("p1999")
    assert len(cfg.config._parsed) == 2  # p1999 and u, not 2001 sections


def test_a_role_arn_with_a_final_newline_is_not_a_role_arn() -> None:
    with pytest.raises(ConfigError, match="not a role ARN"):
        config().resolve("arn:aws:iam::123456789012:role/R\n", source_profile="u")


# Issue 10, each case as botocore reads it (tests/unit/test_botocore_differential.py runs botocore itself).
KEYS_B = "[profile b]\naws_access_key_id = AKIABBBBBBBBBBBBBBBB\naws_secret_access_key = bbbbbbbbbbbbbbbbbbbb\n"


def test_a_source_with_keys_and_its_own_role_is_a_root() -> None:
    """botocore's _resolve_credentials_from_profile: static keys win over the source's role_arn."""
    text = (f"[profile a]\nrole_arn = {R}\nsource_profile = b\n"
            f"{KEYS_B}role_arn = {R2}\nsource_profile = c\n[profile c]\n")
    spec = config(text, "").resolve("a")
    assert isinstance(spec, RoleSpec) and not spec.chained
    assert spec.source == Source(profile="b", has_file_credentials=True, provider="config_file")


def test_a_profile_that_names_itself_as_source_uses_its_own_keys() -> None:
    text = f"[profile b]\nrole_arn = {R}\nsource_profile = b\n" + KEYS_B.replace("[profile b]\n", "")
    spec = config(text, "").resolve("b")
    assert isinstance(spec, RoleSpec) and spec.role_arn == R and spec.source.profile == "b"
    with pytest.raises(ConfigError, match="loop: b -> b"):
        config(f"[profile b]\nrole_arn = {R}\nsource_profile = b\n", "").resolve("b")


@pytest.mark.parametrize("header", [
    "[profile a] # retired account", "[profile\ta]", "[profile    a]", '[profile "a"]', "[profile a];x",
])
def test_headers_botocore_accepts(header: str) -> None:
    cfg = config(f"{header}\nregion = x\n", "")
    assert cfg.profile_names() == ["a"]
    assert cfg.settings("a")["region"].text == "x"


def test_quoted_names_as_target_and_source() -> None:
    text = (f'[profile "my target"]\nrole_arn = {R}\nsource_profile = my source\n'
            + KEYS_B.replace("[profile b]", '[profile "my source"]'))
    spec = config(text, "").resolve("my target")
    assert isinstance(spec, RoleSpec) and spec.source.profile == "my source"


def test_keys_indented_alike_are_keys_and_only_deeper_lines_continue() -> None:
    cfg = config("[profile a]\n  region = x\n  output = json\n    more\n", "")
    assert cfg.settings("a")["region"].text == "x"
    assert cfg.settings("a")["output"].text == "json\nmore"


@pytest.mark.parametrize(("text", "message"), [
    ("[profile a]\nregion = x\n[profile a]\n", "config:3: section repeated"),
    ("[profile a]\nregion = x\nREGION = y\n", "config:3: key 'region' repeated"),
    ("[profile a]\ns3 =\n  no equals sign\n", "config:3: expected 'key = value' in a nested block"),
    ("[profile a]\n= x\n", "config:2: expected 'key = value'"),
])
def test_files_botocore_refuses_are_refused_with_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config(text, "")


def test_a_refused_line_masks_key_shaped_text() -> None:
    with pytest.raises(ConfigError) as info:
        config("[profile a]\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n", "")
    assert "wJalrXUtnFEMI" not in str(info.value) and "***" in str(info.value)


def test_default_section_keys_reach_every_section() -> None:
    cfg = config("[DEFAULT]\nregion = d\n[profile a]\n[profile b]\nregion = b\n", "")
    assert cfg.profile_names() == ["a", "b"]
    assert cfg.settings("a")["region"].text == "d" and cfg.settings("b")["region"].text == "b"


def test_static_keys_are_a_whole_triple_from_the_file_that_wins() -> None:
    """SharedCredentialProvider before ConfigProvider; aws_security_token before aws_session_token."""
    cfg = config("[profile a]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = cs\naws_session_token = ct\n",
                 "[a]\naws_access_key_id = CREDKEY\naws_secret_access_key = ks\naws_security_token = kt\n"
                 "aws_session_token = ignored\n")
    assert cfg.root_provider("a") == "credentials_file"
    assert cfg.static_keys("a", "credentials_file") == ("CREDKEY", "ks", "kt")
    only_config = config("[profile a]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = cs\n",
                         "[a]\naws_session_token = not-a-triple\n")
    assert only_config.root_provider("a") == "config_file"
    assert only_config.static_keys("a", "config_file") == ("CONFIGKEY", "cs", None)


@pytest.mark.parametrize(("settings", "provider"), [
    ("web_identity_token_file = /t\nrole_arn = " + R + "\naws_access_key_id = K\n", "web_identity"),
    ("sso_account_id = 1\ncredential_process = x\n", "sso"),
    ("credential_process = x\naws_access_key_id = K\n", "process"),
    ("login_session = x\n", "login"),
    ("region = x\n", ""),
])
def test_root_provider_follows_botocores_order(settings: str, provider: str) -> None:
    assert config(f"[profile a]\n{settings}", "").root_provider("a") == provider


def test_web_identity_profile_is_a_root_even_as_a_target_with_role_arn() -> None:
    text = (f"[profile w]\nrole_arn = {R}\nweb_identity_token_file = /t\n"
            f"[profile a]\nrole_arn = {R2}\nsource_profile = w\n")
    cfg = config(text, "")
    assert cfg.resolve("w") == Source(profile="w", has_file_credentials=True, provider="web_identity")
    spec = cfg.resolve("a")
    assert isinstance(spec, RoleSpec) and spec.source == Source(profile="w", has_file_credentials=True,
                                                                provider="web_identity")


@pytest.mark.parametrize(("environ", "expected"), [
    ({"HOME": "/h", "AWS_CONFIG_FILE": "$HOME/cfg", "AWS_SHARED_CREDENTIALS_FILE": "${XDIR}/c"},
     ("/h/cfg", "${XDIR}/c")),
    ({"HOME": "/h", "XDIR": "/x", "AWS_CONFIG_FILE": "~/cfg", "AWS_SHARED_CREDENTIALS_FILE": "${XDIR}/c"},
     ("/h/cfg", "/x/c")),
    ({"HOME": "/h", "AWS_CONFIG_FILE": ""}, ("", "/h/.aws/credentials")),
    ({"HOME": "/h/"}, ("/h/.aws/config", "/h/.aws/credentials")),
])
def test_file_paths_are_expanded_as_botocore_expands_them(environ: dict[str, str],
                                                          expected: tuple[str, str]) -> None:
    assert config_paths(environ) == expected


def test_an_empty_aws_config_file_means_no_config_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[profile a]\nregion = x\n", encoding="utf-8")
    cfg = AwsConfig.load({"HOME": str(tmp_path), "AWS_CONFIG_FILE": ""})
    assert cfg.profile_names() == []

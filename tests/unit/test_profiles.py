"""Profile resolution: config + credentials files -> RoleSpec chains (no network)."""

from __future__ import annotations

import pytest

from assumer.core.profiles import AwsConfig, IniFile, RoleSpec, Source
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
    assert spec.source == Source(profile="u", has_file_credentials=True, region="ap-northeast-1")
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

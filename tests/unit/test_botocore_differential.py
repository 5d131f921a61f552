"""botocore as the oracle: assumer reads the AWS files and builds chains exactly as botocore does.

Two levels, both in-process (botocore is imported here, never on assumer's hot path):

- the files: for every profile, the same keys and values as botocore's
  ``session.full_config`` (config file, ``[profile x]`` / ``[default]`` naming,
  credentials file overlaid key by key), and a file refused exactly when botocore
  refuses it;
- the chains: the same STS calls in the same order, each signed by the same key id,
  with the same explicit parameters, and the same key handed out
  (:mod:`tests.tools.botocore_oracle`).

Inputs: a corpus of cases taken from botocore's configloader and credential tests
and from the cross-SDK test data AWS publishes (smithy-rs
``aws/rust-runtime/aws-config/test-data/profile-parser-tests.json`` and
``assume-role-tests.json``), each with its source; and files written by hypothesis.
botocore stays the oracle where another SDK's expectation differs (the cross-SDK
suite merges duplicate sections, botocore refuses them). A divergence fails unless it
is listed in :data:`DIFFERENCES` with its reason (the same list is in the README).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assumer.core.profiles import AwsConfig, IniFile
from assumer.errors import ConfigError
from tests.tools.botocore_oracle import Outcome, assumer_outcome, botocore_outcome
from tests.unit.test_config_fuzz import line

ENV_KEY = "AKIAENVIRONMENTKEY01"
RA = "arn:aws:iam::123456789012:role/RoleA"
RB = "arn:aws:iam::123456789012:role/RoleB"

# Documented differences from botocore (also in the README, "Differences from the AWS CLI").
# Case name -> why assumer deliberately differs. A case listed here must still differ.
# The others in the README (GetSessionToken for a profile with keys alone, the one-hour cap on
# chained roles, keys from 'assumer add' first) are about what is done with the chain, not which
# chain it is, and are not what these tests compare.
DIFFERENCES: dict[str, str] = {
    "short account id": "assumer checks a role ARN before calling STS (12-digit account); botocore sends "
                        "whatever role_arn says and STS refuses it",
    "duration not a number": "assumer refuses a duration_seconds that is not a number of seconds in "
                             "900..43200 (exit 3); botocore drops it silently and STS uses one hour",
    "mfa and duration": "assumer asks for the code once per source: GetSessionToken with the code (its MFA "
                        "session, cached), then AssumeRole signed by that session without a code; botocore sends "
                        "the code with every AssumeRole",
    "mfa on the source profile": "assumer honours mfa_serial on the source profile (the MFA session signs the "
                                 "role); botocore ignores it and assumes the role with the keys, without MFA",
    "empty external id": "assumer treats an empty external_id (mfa_serial, role_session_name) as unset; "
                         "botocore sends the empty value and STS refuses it",
}

# (name, source, config file, credentials file). Account ids in ARNs are 12 digits (the
# cross-SDK data uses 9; assumer checks ARNs before calling STS, botocore does not).
CORPUS: list[tuple[str, str, str, str]] = [
    # smithy-rs test-data/profile-parser-tests.json
    ("empty files", "profile-parser-tests.json: Empty files have no profiles.", "", ""),
    ("empty profile", "profile-parser-tests.json: Empty profiles have no properties.", "[profile foo]", ""),
    ("name characters", "profile-parser-tests.json: Profile names support alphanumeric characters and - / . % @ _ : +",
     "[profile some-thing:long/the_one%only.foo@bar+]\n[profile foo!bar]", ""),
    ("unterminated header", "profile-parser-tests.json: Profile definitions must end with brackets.",
     "[profile foo", ""),
    ("name trimmed", "profile-parser-tests.json: Profile names should be trimmed.", "[profile \tfoo \t]", ""),
    ("tab after profile", "profile-parser-tests.json: Tabs can separate profile names from profile prefix.",
     "[profile\tfoo]\nregion = x", ""),
    ("setting before section", "profile-parser-tests.json: Properties must be defined in a profile.",
     "name = value", ""),
    ("crlf", "profile-parser-tests.json: Windows style line endings are supported.",
     "[profile foo]\r\nname = value", ""),
    ("equals in value", "profile-parser-tests.json: Equals signs are supported in property values.",
     "[profile foo]\nname = val=ue", ""),
    ("unicode value", "profile-parser-tests.json: Unicode characters are supported in property values.",
     "[profile foo]\nname = \U0001f602", ""),
    ("trimmed", "profile-parser-tests.json: Property keys and values are trimmed.",
     "[profile foo]\nname \t=  \tvalue \t", ""),
    ("empty value", "profile-parser-tests.json: Property values can be empty.", "[profile foo]\nname =", ""),
    ("empty key", "profile-parser-tests.json: Property key cannot be empty.", "[profile foo]\n= value", ""),
    ("colon", "profile-parser-tests.json: Property definitions must contain an equals sign (botocore: ':' too).",
     "[profile foo]\nkey : value", ""),
    ("blank lines", "profile-parser-tests.json: Blank lines are ignored.",
     "\t \n[profile foo]\n\t\n \nname = value\n\t \n[profile bar]\n \t", ""),
    ("comments after header", "profile-parser-tests.json: Pound sign comments are ignored.",
     "# Comment\n[profile foo] # Comment\nname = value # Comment with # sign", ""),
    ("semicolon comments", "profile-parser-tests.json: Semicolon sign comments are ignored.",
     "; Comment\n[profile foo] ; Comment\nname = value ; Comment with ; sign", ""),
    ("adjacent comments", "profile-parser-tests.json: Comments can be adjacent to profile names.",
     "[profile foo]; Adjacent semicolons\n[profile bar]# Adjacent pound signs", ""),
    ("continuation", "profile-parser-tests.json: Property values can be continued on the next line.",
     "[profile foo]\nname = value\n -continued\n -and-continued", ""),
    ("continuation comments", "profile-parser-tests.json: Continuation values include pound comments.",
     "[profile foo]\nname = value\n -continued # Comment", ""),
    ("continuation outside profile", "profile-parser-tests.json: Continuations cannot be used outside of a profile.",
     " -continued", ""),
    ("continuation outside property",
     "profile-parser-tests.json: Continuations cannot be used outside of a property (botocore: a key line).",
     "[profile foo]\n -continued", ""),
    ("duplicate profile", "profile-parser-tests.json: Duplicate profiles in the same file merge properties.",
     "[profile foo]\nname = value\n[profile foo]\nname2 = value2", ""),
    ("duplicate property", "profile-parser-tests.json: Duplicate properties in a profile use the last one defined.",
     "[profile foo]\nname = value\nname = value2", ""),
    ("duplicate property case", "profile-parser-tests.json: Duplicate properties ... (case insensitive).",
     "[profile foo]\nName = value\n[profile foo]\nname = value2", ""),
    ("default both first", "profile-parser-tests.json: Default profile with profile prefix ... is first.",
     "[profile default]\nname = value\n[default]\nname2 = value2", ""),
    ("default both last", "profile-parser-tests.json: Default profile with profile prefix ... is last.",
     "[default]\nname2 = value2\n[profile default]\nname = value", ""),
    ("invalid names", "profile-parser-tests.json: Invalid profile names are ignored.",
     "[profile in valid]\nname = value", "[in valid 2]\nname2 = value2"),
    ("invalid property name", "profile-parser-tests.json: Invalid property names are ignored.",
     "[profile foo]\nin valid = value", ""),
    ("property name characters", "profile-parser-tests.json: All valid property name characters are supported.",
     "[profile foo]\nABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_ = value", ""),
    ("sub-properties", "profile-parser-tests.json: Properties can have sub-properties.",
     "[profile foo]\ns3 =\n name = value\n\t \n name2 = value2", ""),
    ("invalid sub-property", "profile-parser-tests.json: Invalid sub-property definitions cause an error.",
     "[profile foo]\ns3 =\n invalid", ""),
    ("empty sub-property name", "profile-parser-tests.json: Sub-property definitions cannot have an empty name.",
     "[profile foo]\ns3 =\n = value", ""),
    ("merged files", "profile-parser-tests.json: Profiles duplicated in multiple files are merged.",
     "[profile foo]\nname = value", "[foo]\nname2 = value2"),
    ("credentials win", "profile-parser-tests.json: Duplicate properties between files uses credentials property.",
     "[profile foo]\nname = value", "[foo]\nname = value2"),
    ("no prefix", "profile-parser-tests.json: Config profiles without prefix are ignored.", "[foo]\nname = value", ""),
    ("prefix in credentials", "profile-parser-tests.json: Credentials profiles with prefix are ignored.",
     "", "[profile foo]\nname = value"),
    ("sneaky", "profile-parser-tests.json: sneaky profile name", "[profilefoo]\nname = value\n[profile bar]", ""),
    ("outer whitespace", "profile-parser-tests.json: profile name with extra whitespace",
     "[   profile foo    ]\nname = value\n[profile bar]", ""),
    ("outer whitespace credentials", "profile-parser-tests.json: profile name with extra whitespace in credentials",
     "", "[   foo    ]\nname = value\n[profile bar]"),
    ("sso-session", "profile-parser-tests.json: sso-session with properties",
     "[sso-session foo]\nname = value\n[profile bar]", ""),
    # botocore tests/unit/cfg/aws_config_nested and tests/unit/test_configloader.py
    ("nested", "botocore tests/unit/cfg/aws_config_nested (test_nested_hierarchy_parsing)",
     "[default]\naws_access_key_id = foo\naws_secret_access_key = bar\naws_session_token = baz\n"
     "s3 =\n    signature_version = s3v4\n    addressing_style = path\nregion = us-west-2\n", ""),
    ("nested empty", "botocore tests/unit/cfg/aws_config_nested_empty (test_nested_bad_config_filesystem...)",
     "[default]\ns3 =\n\nregion = us-west-2\n", ""),
    ("quoted names", "botocore tests/unit/test_configloader.py test_profile_map_conversion... quoted names (shlex)",
     '[profile "my profile"]\nregion = x\n[profile \'it is\']\nregion = y\n[profile a b]\nregion = z\n', ""),
    ("DEFAULT section", "configparser semantics botocore inherits: [DEFAULT] keys in every section",
     "[DEFAULT]\nregion = d\n[profile a]\nregion = a\n[profile b]\n", "[DEFAULT]\nx = 1\n[b]\ny = 2\n"),
    ("indented keys", "issue 10: keys indented alike at the start of a section",
     "[profile a]\n  region = x\n  output = json\n    more = y\n", ""),
    ("text after header", "issue 10: [profile old] # retired account", "[profile old] # retired\nregion = x\n", ""),
    ("security token", "botocore tests/unit/test_credentials.py TestSharedCredentialsProvider aws_security_token",
     "", "[foo]\naws_access_key_id = AKIDFOO\naws_secret_access_key = SECRET\naws_security_token = TOKEN\n"),
    # smithy-rs test-data/assume-role-tests.json (ARN account ids widened to 12 digits)
    ("role from static", "assume-role-tests.json: basic test case, a role_arn backed by a static credential",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\naws_access_key_id = abc123\n"
     "aws_secret_access_key = def456\n", ""),
    ("explicit creds ignored", "assume-role-tests.json: ignore explicit credentials when source profile is specified",
     f"[profile A]\naws_access_key_id = abc123\naws_secret_access_key = def456\nrole_arn = {RA}\nsource_profile = B\n"
     "[profile B]\naws_access_key_id = ghi890\naws_secret_access_key = jkl123\n", ""),
    ("session name", "assume-role-tests.json: load role_session_name for the AssumeRole provider",
     f"[profile A]\nrole_arn = {RA}\nrole_session_name = my_session_name\nsource_profile = B\n[profile B]\n"
     "aws_access_key_id = abc123\naws_secret_access_key = def456\n", ""),
    ("external id", "assume-role-tests.json: load external id for the AssumeRole provider",
     f"[profile A]\nrole_arn = {RA}\nexternal_id = my_external_id\nsource_profile = B\n[profile B]\n"
     "aws_access_key_id = abc123\naws_secret_access_key = def456\n", ""),
    ("self reference", "assume-role-tests.json: self referential profile",
     f"[profile A]\naws_access_key_id = abc123\naws_secret_access_key = def456\nrole_arn = {RA}\nsource_profile = A\n",
     ""),
    ("self reference without keys", "botocore credentials.py _validate_source_profile: self reference needs keys",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = A\n", ""),
    ("no source", "assume-role-tests.json: role_arn without source source_profile", f"[profile A]\nrole_arn = {RA}\n",
     ""),
    ("both sources", "assume-role-tests.json: source profile and credential source both present",
     f"[profile A]\nrole_arn = {RA}\ncredential_source = Environment\nsource_profile = B\n[profile B]\n"
     "aws_access_key_id = abc123\naws_secret_access_key = def456\n", ""),
    ("missing secret", "assume-role-tests.json: partial credentials error (missing secret)",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\naws_access_key_id = abc123\n", ""),
    ("missing key id", "assume-role-tests.json: partial credentials error (missing access key)",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\naws_secret_access_key = abc123\n", ""),
    ("empty source", "assume-role-tests.json: missing credentials error (empty source profile)",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\n", ""),
    ("missing source", "assume-role-tests.json: missing source profile",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n", ""),
    ("chained", "assume-role-tests.json: multiple chained assume role profiles",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\nrole_arn = {RB}\nsource_profile = C\n"
     "[profile C]\naws_access_key_id = mno456\naws_secret_access_key = pqr789\n", ""),
    ("static stops chain", "assume-role-tests.json: chained assume role profiles with static credentials",
     f"[profile A]\nrole_arn = {RA}\naws_access_key_id = bug_if_returned\naws_secret_access_key = bug_if_returned\n"
     f"source_profile = B\n[profile B]\nrole_arn = {RB}\nsource_profile = C\naws_access_key_id = profile_b_key\n"
     "aws_secret_access_key = profile_b_secret\n[profile C]\naws_access_key_id = bug_if_returned\n"
     "aws_secret_access_key = bug_if_returned\n", ""),
    ("loop", "assume-role-tests.json: assume role profile infinite loop",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\nrole_arn = {RB}\nsource_profile = A\n", ""),
    ("loop with keys", "assume-role-tests.json: infinite loop with static credentials",
     f"[profile A]\nrole_arn = {RA}\naws_access_key_id = k\naws_secret_access_key = s\nsource_profile = B\n"
     f"[profile B]\nrole_arn = {RB}\nsource_profile = A\n", ""),
    ("environment source", "botocore credentials.py CanonicalNameCredentialSourcer: credential_source = Environment",
     f"[profile A]\nrole_arn = {RA}\ncredential_source = Environment\n", ""),
    # issue 10 and botocore's provider order (credentials.py ProfileProviderBuilder.providers)
    ("source in credentials file", "issue 10: a source profile whose keys and role are in the credentials file",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n",
     f"[B]\naws_access_key_id = AKIDB\naws_secret_access_key = SB\nrole_arn = {RB}\nsource_profile = C\n"),
    ("credentials file wins whole", "botocore SharedCredentialProvider before ConfigProvider: the whole triple",
     "[profile A]\naws_access_key_id = CONFIGKEY\naws_secret_access_key = CS\naws_session_token = CT\n",
     "[A]\naws_access_key_id = CREDKEY\naws_secret_access_key = KS\n"),
    ("split keys", "botocore: key id only in the credentials file, secret only in the config file",
     "[profile A]\naws_secret_access_key = CS\n", "[A]\naws_access_key_id = CREDKEY\n"),
    ("quoted source", "issue 10: quoted names as a target and as a source_profile",
     f'[profile "my target"]\nrole_arn = {RA}\nsource_profile = my source\n[profile "my source"]\n'
     "aws_access_key_id = AKIDQ\naws_secret_access_key = SQ\n", ""),
    ("several spaces", "issue 10: several spaces between profile and the name",
     f"[profile    A]\nrole_arn = {RA}\nsource_profile = B\n[profile\tB]\naws_access_key_id = K\n"
     "aws_secret_access_key = S\n", ""),
    ("duration", "botocore AssumeRoleProvider._get_role_config: duration_seconds",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n"
     "duration_seconds = 1800\n[profile B]\naws_access_key_id = K\naws_secret_access_key = S\n", ""),
    ("mfa on a chained role", "botocore AssumeRoleProvider._get_role_config: mfa_serial (sent with that AssumeRole)",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n"
     f"[profile B]\nrole_arn = {RB}\nsource_profile = C\n"
     "[profile C]\naws_access_key_id = K\naws_secret_access_key = S\n", ""),
    ("mfa with a session as the root", "botocore AssumeRoleProvider: mfa_serial sent with the AssumeRole",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n"
     "[profile B]\naws_access_key_id = ASIAK\naws_secret_access_key = S\naws_session_token = T\n", ""),
    # Documented differences (DIFFERENCES), each kept here so that it stays a known one.
    ("short account id", "assume-role-tests.json: basic test case, with its 9-digit account id as published",
     "[profile A]\nrole_arn = arn:aws:iam::123456789:role/RoleA\nsource_profile = B\n[profile B]\n"
     "aws_access_key_id = abc123\naws_secret_access_key = def456\n", ""),
    ("duration not a number", "botocore AssumeRoleProvider._get_role_config: int(duration_seconds) or nothing",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\nduration_seconds = 1h\n[profile B]\n"
     "aws_access_key_id = K\naws_secret_access_key = S\n", ""),
    ("mfa and duration", "botocore AssumeRoleProvider._get_role_config: mfa_serial, duration_seconds",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n"
     "duration_seconds = 1800\n[profile B]\naws_access_key_id = K\naws_secret_access_key = S\n", ""),
    ("mfa on the source profile", "aws-vault's and granted's layout: mfa_serial on the profile with the keys",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n[profile B]\naws_access_key_id = K\n"
     "aws_secret_access_key = S\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n", ""),
    ("empty external id", "botocore AssumeRoleProvider._load_creds_via_assume_role: ExternalId if not None",
     f"[profile A]\nrole_arn = {RA}\nsource_profile = B\nexternal_id =\n[profile B]\n"
     "aws_access_key_id = K\naws_secret_access_key = S\n", ""),
    ("nested error under [DEFAULT] alone", "configparser/botocore: [DEFAULT] values parsed per section",
     "[DEFAULT]\ns3 =\n  broken\n", ""),
    ("nested error under [DEFAULT] with a section", "configparser/botocore: [DEFAULT] values parsed per section",
     "[DEFAULT]\ns3 =\n  broken\n[profile a]\n", ""),
]


@pytest.fixture(autouse=True)
def _environment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys for credential_source = Environment, the same for both sides."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "environment-secret")


def botocore_profiles(config: Path, credentials: Path) -> dict[str, dict[str, Any]] | None:
    """botocore's ``full_config['profiles']``, or None when it refuses either file."""
    session = botocore.session.Session()
    session.set_config_variable("config_file", str(config))
    session.set_config_variable("credentials_file", str(credentials))
    try:
        return dict(session.full_config["profiles"])
    except botocore.exceptions.ConfigParseError:
        return None


def _nested(text: str) -> dict[str, str] | str:
    """A value as botocore hands it out: a nested block parsed into a dict (configloader._parse_nested)."""
    if not text.startswith("\n"):
        return text
    return {key.strip(): value.strip() for key, _, value in
            (line.strip().partition("=") for line in text.splitlines() if line.strip())}


def assumer_profiles(config: Path, credentials: Path) -> dict[str, dict[str, Any]] | None:
    try:
        aws = AwsConfig(IniFile.load(str(config)), IniFile.load(str(credentials)))
        return {name: {key: _nested(value.text) for key, value in aws.settings(name).items()}
                for name in aws.profile_names()}
    except ConfigError:
        return None


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    yield tmp_path / "config", tmp_path / "credentials"


def write(config: Path, credentials: Path, config_text: str, credentials_text: str) -> None:
    # newline="": the text goes to disk as written (\r\n included); both sides read it back.
    config.write_text(config_text, encoding="utf-8", newline="")
    credentials.write_text(credentials_text, encoding="utf-8", newline="")


def compare(config: Path, credentials: Path) -> list[str]:
    """Every way assumer's reading differs from botocore's (file level and, per profile, chain level)."""
    expected, found = botocore_profiles(config, credentials), assumer_profiles(config, credentials)
    if expected is None or found is None:
        return [] if expected is found else [f"refused: botocore {expected is None}, assumer {found is None}"]
    problems = [] if expected == found else [f"profiles: botocore {expected!r}, assumer {found!r}"]
    for profile in expected:
        oracle, ours = botocore_outcome(config, credentials, profile), assumer_outcome(config, credentials, profile)
        if not _same(oracle, ours):
            problems.append(f"profile {profile!r}: botocore {oracle}, assumer {ours}")
    return problems


def _same(oracle: Outcome, ours: Outcome) -> bool:
    if oracle.refused or ours.refused:
        return oracle.refused and ours.refused
    return oracle == ours


@pytest.mark.parametrize(("name", "source", "config_text", "credentials_text"), CORPUS,
                         ids=[case[0] for case in CORPUS])
def test_corpus_case_reads_and_resolves_as_botocore(files: tuple[Path, Path], name: str, source: str,
                                                    config_text: str, credentials_text: str) -> None:
    config, credentials = files
    write(config, credentials, config_text, credentials_text)
    problems = compare(config, credentials)
    if name in DIFFERENCES:
        assert problems, f"{name!r} is listed as a difference ({DIFFERENCES[name]}) but now matches botocore"
    else:
        assert problems == [], f"{name} ({source})"


# Generated files: chains among a few profiles, in either file, with comments, indentation,
# quoting, whitespace and duplicates.
PROFILES = ["a", "b", "c", "default", "my p"]
INDENTS = ["", "", "", " ", "  ", "\t"]


def _header(profile: str, in_config: bool, draw: st.DrawFn) -> str:
    if not in_config:
        return f"[{profile}]"
    if profile == "default" and draw(st.booleans()):
        return "[default]"
    spacing = draw(st.sampled_from([" ", " ", "  ", "\t", " \t"]))
    quoted = " " in profile or draw(st.booleans())
    name = f'"{profile}"' if quoted else profile
    trailer = draw(st.sampled_from(["", "", " # note", "; x", " ]extra"]))
    return f"[profile{spacing}{name}]{trailer}"


@st.composite
def section(draw: st.DrawFn, in_config: bool) -> str:
    profile = draw(st.sampled_from(PROFILES))
    lines = [_header(profile, in_config, draw)]
    keys: list[tuple[str, str]] = []
    if draw(st.booleans()):
        keys.append(("role_arn", draw(st.sampled_from([RA, RB]))))
        if draw(st.integers(0, 4)):
            keys.append(("source_profile", draw(st.sampled_from(PROFILES))))
        else:
            keys.append(("credential_source", "Environment"))
    if draw(st.booleans()):
        keys.append(("aws_access_key_id", f"AKID{profile.upper().replace(' ', '')}{'C' if in_config else 'K'}"))
    if draw(st.booleans()):
        keys.append(("aws_secret_access_key", "secret"))
    for extra in draw(st.lists(st.sampled_from(["aws_session_token", "aws_security_token", "external_id",
                                                "role_session_name", "region", "duration_seconds"]),
                               max_size=2, unique=True)):
        keys.append((extra, {"duration_seconds": "1800", "role_session_name": "sess"}.get(extra, "v1")))
    if draw(st.integers(0, 9)) == 0 and keys:
        keys.append(draw(st.sampled_from(keys)))  # a duplicate key: botocore refuses the file
    indent = draw(st.sampled_from(INDENTS))
    for key, value in draw(st.permutations(keys)):
        separator = draw(st.sampled_from([" = ", "=", " =\t", ": "]))
        lines.append(f"{indent}{key}{separator}{value}")
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["# comment", "; comment", "", "   "])))
    return "\n".join(lines)


def aws_file(in_config: bool) -> st.SearchStrategy[str]:
    return st.lists(section(in_config), max_size=5).map(lambda parts: "\n".join(parts) + "\n")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_text=aws_file(True), credentials_text=aws_file(False))
def test_generated_files_resolve_as_botocore(config_text: str, credentials_text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        config, credentials = Path(directory, "config"), Path(directory, "credentials")
        write(config, credentials, config_text, credentials_text)
        assert compare(config, credentials) == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_text=st.lists(line(), max_size=20).map("\n".join),
       credentials_text=st.lists(line(), max_size=8).map("\n".join))
def test_arbitrary_lines_read_as_botocore(config_text: str, credentials_text: str) -> None:
    """The fuzzer's lines (garbage, continuations, odd headers): the same profiles or the same refusal."""
    with tempfile.TemporaryDirectory() as directory:
        config, credentials = Path(directory, "config"), Path(directory, "credentials")
        write(config, credentials, config_text, credentials_text)
        expected, found = botocore_profiles(config, credentials), assumer_profiles(config, credentials)
        assert found == expected


def test_oracle_sees_a_wrong_chain(files: tuple[Path, Path]) -> None:
    """The harness itself: a chain that assumes the source's own role is caught as a difference."""
    config, credentials = files
    write(config, credentials, f"[profile A]\nrole_arn = {RA}\nsource_profile = B\n", "")
    assert not _same(Outcome(calls=(), key_id="X"), Outcome(calls=(), refused=True))
    assert os.environ["AWS_ACCESS_KEY_ID"] == ENV_KEY

"""Config parsing fuzzed: whatever the AWS files hold, only ConfigError comes out.

Hypothesis writes config and credentials files from plausible and implausible lines
(sections, settings of every key assumer reads with good and bad values, continuation
lines, comments, garbage, arbitrary text) and then lists and resolves every profile
name it mentions plus arbitrary names and role ARNs, with and without the command
line's overrides. Anything but a Target or an :class:`assumer.errors.ConfigError`
(exit 3, one line) is a bug: a traceback for the user.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assumer.core.profiles import AwsConfig, IniFile, RoleSpec, Source
from assumer.core.session import SessionOptions, resolve
from assumer.errors import ConfigError

NAMES = ["u", "r", "r2", "default", "a b", "x", "arn:aws:iam::123456789012:role/R", "", " ", "é", "[x]", "a=b"]
KEYS = ["role_arn", "source_profile", "credential_source", "mfa_serial", "duration_seconds", "external_id",
        "role_session_name", "source_identity", "region", "aws_access_key_id", "aws_secret_access_key",
        "credential_process", "sso_session", "s3", "ROLE_ARN", "Region"]
VALUES = ["arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:role/a/b/c", "arn:aws-cn:iam::1:role/R",
          "arn:", "u", "r", "r2", "x", "Environment", "Ec2InstanceMetadata", "3600", "900", "43200", "899",
          "43201", "-1", "0", "1e3", "9" * 40, "١٢٣٤", "1_000", "", " ", "a b", "ok-name", "$(x)", "\t"]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
name = st.one_of(st.sampled_from(NAMES), text)


@st.composite
def line(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return f"[profile {draw(name)}]"
    if kind == 1:
        return f"[{draw(name)}]"
    if kind in (2, 3, 4):
        sep = draw(st.sampled_from(["=", " = ", ":", " : ", "=  "]))
        key = draw(st.one_of(st.sampled_from(KEYS), text))
        return f"{key}{sep}{draw(st.one_of(st.sampled_from(VALUES + NAMES), text))}"
    if kind == 5:
        return f"  {draw(st.sampled_from(KEYS))} = {draw(st.sampled_from(VALUES))}"  # continuation
    if kind == 6:
        return draw(st.sampled_from(["", "# comment", "; comment", "   ", "[", "]", "[]", "[profile]", "=", "=x",
                                     "key", "\ufeff[profile u]", "[profile u] # c", "\x0c", "\r"]))
    return draw(text)


files = st.lists(line(), max_size=25).map("\n".join)


def only_config_error(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``call(...)``'s result, or None when it raised ConfigError (exit 3, one line)."""
    try:
        return call(*args, **kwargs)
    except ConfigError as exc:
        assert exc.exit_code == 3
        assert str(exc) and "\n" not in str(exc), "an error must fit on one line"
        return None


def resolve_all(config: AwsConfig, extra_names: list[str], duration: int | None, region: str | None) -> None:
    names = list(only_config_error(config.profile_names) or []) + extra_names
    for profile in names:
        only_config_error(config.exists, profile)
        only_config_error(config.settings, profile)
        for source in (None, "u", profile):
            target = only_config_error(config.resolve, profile, source_profile=source, duration=duration,
                                       region=region)
            if target is None:
                continue
            options = SessionOptions(duration=duration, region=region, source_profile=source)
            assert only_config_error(resolve, profile, options, config=config,
                                     environ={"AWS_REGION": "eu-west-1"}) is not None
            assert isinstance(target, (RoleSpec, Source))
            if isinstance(target, RoleSpec):
                for link in target.chain():
                    assert isinstance(link, (RoleSpec, Source))


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(config_text=files, credentials_text=files, extra=st.lists(name, max_size=3),
       duration=st.one_of(st.none(), st.integers(-10, 10**6)), region=st.one_of(st.none(), text))
def test_parsing_and_resolving_raise_only_config_error(config_text: str, credentials_text: str, extra: list[str],
                                                      duration: int | None, region: str | None) -> None:
    try:
        config = AwsConfig(IniFile("/c/config", config_text), IniFile("/c/credentials", credentials_text))
    except ConfigError as exc:
        assert exc.exit_code == 3
        assert "/c/" in exc.message  # a malformed file is named, with the line
        return
    resolve_all(config, extra, duration, region)


@FUZZ
@given(data=st.binary(max_size=300))
def test_loading_arbitrary_bytes_raises_only_config_error(data: bytes,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config"
    path.write_bytes(data)
    try:
        ini = IniFile.load(str(path))
        config = AwsConfig(ini, IniFile("/c/credentials", ""))
    except ConfigError as exc:
        assert str(path) in exc.message
        return
    resolve_all(config, ["u"], None, None)


@settings(max_examples=200, deadline=None)
@given(chain=st.lists(st.sampled_from(["p0", "p1", "p2", "p3", "p4"]), min_size=1, max_size=8),
       roots=st.sets(st.sampled_from(["p0", "p1", "p2", "p3", "p4"])))
def test_any_source_profile_graph_resolves_or_reports_a_loop(chain: list[str], roots: set[str]) -> None:
    """Arbitrary source_profile graphs, loops and self-references included, terminate."""
    sections = {}
    for current, following in zip(chain, [*chain[1:], chain[0]], strict=True):
        if current in roots:
            sections[current] = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        else:
            sections[current] = f"role_arn = arn:aws:iam::123456789012:role/R\nsource_profile = {following}\n"
    text = "".join(f"[profile {k}]\n{v}" for k, v in sections.items())
    resolve_all(AwsConfig(IniFile("/c/config", text), IniFile("/c/credentials", "")), [], None, None)


def test_fuzz_harness_sees_other_exceptions() -> None:
    """resolve_all lets anything but ConfigError through (so the fuzz tests can fail)."""

    class Broken(AwsConfig):
        def resolve(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
            raise KeyError("boom")

    broken = Broken(IniFile("/c/config", "[profile u]\nregion = x\n"), IniFile("/c/credentials", ""))
    with pytest.raises(KeyError):
        resolve_all(broken, [], None, None)


def test_real_config_path_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        IniFile.load(str(tmp_path))
    assert str(tmp_path) in info.value.message


class _LineByLine(IniFile):
    """The reader without its fast path: every file through the line-by-line scan."""

    def _fast_scan(self, text: str) -> bool:
        return False


def _reading(make: type[IniFile], text: str) -> object:
    try:
        ini = make("/c/config", text)
        return [(name, ini.section(name)) for name in ini.sections()]
    except ConfigError as exc:
        return exc.message


@FUZZ
@given(text=files)
def test_the_fast_path_reads_every_file_as_the_line_by_line_scan(text: str) -> None:
    """Same sections, keys, values and line numbers, or the same error, whichever path reads the file."""
    assert _reading(IniFile, text) == _reading(_LineByLine, text)

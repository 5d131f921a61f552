"""``--duration`` as people type it (the range itself is checked with the config's duration_seconds)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assumer.cli.app import cli
from assumer.cli.durations import parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("3600", 3600), ("900", 900), ("3600s", 3600), ("90m", 5400), ("1h", 3600), ("1h30m", 5400),
    ("12h", 43200), ("1h0m30s", 3630), (" 2H ", 7200), ("15m", 900),
])
def test_accepted_forms(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1x", "1.5h", "-1h", "1h 30m", "30m1h", "1h1h", "1d", "3600ss", "abc"])
def test_refused_forms_say_what_is_accepted_or_wrong(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|once each"):
        parse_duration(text)


def test_a_bad_duration_is_a_usage_error_naming_the_forms() -> None:
    result = CliRunner().invoke(cli, ["env", "r", "--duration", "1x"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "'1x' is not a duration (examples: 3600, 3600s, 90m, 1h, 1h30m)" in result.stderr


def test_help_shows_the_range_and_the_forms_not_a_bare_integer_bound() -> None:
    result = CliRunner().invoke(cli, ["env", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "900-43200 seconds: 3600, 3600s, 90m, 1h, 1h30m" in text
    assert "x>=1" not in text

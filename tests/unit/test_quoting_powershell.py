"""PowerShell quoting, which cannot run here: exact strings, and a model of its single-quoted strings.

The output gets exact strings (with U+2018/U+2019, which PowerShell treats as quote
characters) and a property test against a model of its single-quoted string rule.
bash, zsh and fish evaluate rendered values for real in
tests/integration/test_quoting_props.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from assumer.cli import render

PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def powershell_unquote(text: str) -> str:
    """PowerShell's rule for a verbatim string: any single-quote character ends it, unless doubled.

    (tokenizer.cs ScanStringLiteral: a char in the single-quote class followed by another
    one is one literal quote; anything else, ``$``, backtick and newlines included, is literal.)
    """
    assert text[0] in PS_QUOTES
    out, i = [], 1
    while i < len(text):
        char = text[i]
        if char in PS_QUOTES:
            if i + 1 < len(text) and text[i + 1] in PS_QUOTES:
                out.append(char)
                i += 2
                continue
            assert i == len(text) - 1, f"string ended early at {i}: the rest would run as code"
            return "".join(out)
        out.append(char)
        i += 1
    raise AssertionError("unterminated string")


@pytest.mark.parametrize(("value", "quoted"), [
    ("plain", "'plain'"),
    ("", "''"),
    ("it's", "'it''s'"),
    ("\u2018; Remove-Item C:\\ -Recurse; \u2019", "'\u2018\u2018; Remove-Item C:\\ -Recurse; \u2019\u2019'"),
    ("a\u2019b", "'a\u2019\u2019b'"),
    ("a\u201ab\u201bc", "'a\u201a\u201ab\u201b\u201bc'"),
    ("$(Get-Process) `n $Env:HOME", "'$(Get-Process) `n $Env:HOME'"),
    ("line1\nline2", "'line1\nline2'"),
    ('"double"', "'\"double\"'"),
    ("\u201cdouble smart\u201d", "'\u201cdouble smart\u201d'"),
])
def test_powershell_exact_strings(value: str, quoted: str) -> None:
    assert render.quote_powershell(value) == quoted
    assert powershell_unquote(quoted) == value


def test_powershell_render_exact() -> None:
    text = render.render({"AWS_SESSION_TOKEN": "x\u2019; iex evil; \u2018y"}, ["AWS_PROFILE"], "powershell")
    assert text == ("Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue\n"
                    "$Env:AWS_SESSION_TOKEN = 'x\u2019\u2019; iex evil; \u2018\u2018y'\n")


@settings(max_examples=300)
@given(st.text(st.one_of(st.sampled_from(list(PS_QUOTES + "$`\"\n\r")), st.characters(blacklist_categories=("Cs",)))))
def test_powershell_quoting_round_trips_in_the_model(value: str) -> None:
    assert powershell_unquote(render.quote_powershell(value)) == value


def test_powershell_model_can_fail() -> None:
    """An ASCII-only doubling (the usual mistake) is caught by the model."""
    with pytest.raises(AssertionError):
        naive = "'" + "a\u2019; evil".replace("'", "''") + "'"
        powershell_unquote(naive)

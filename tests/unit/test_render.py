"""Rendering: exact text per shell, so a change in quoting is a visible change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assumer.cli.render import (
    credential_process_json,
    quote_fish,
    quote_posix,
    quote_powershell,
    render,
    render_unset,
    session_variables,
    variables_to_unset,
)
from assumer.credentials import Credentials
from assumer.errors import ConfigError

EXPIRY = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
CREDS = Credentials("ASIAKEY", "sec/ret+", "tok=en", EXPIRY)


def test_session_variables() -> None:
    assert session_variables(CREDS, "r", "ap-northeast-1") == {
        "AWS_ACCESS_KEY_ID": "ASIAKEY",
        "AWS_SECRET_ACCESS_KEY": "sec/ret+",
        "AWS_SESSION_TOKEN": "tok=en",
        "AWS_CREDENTIAL_EXPIRATION": "2026-01-02T03:04:05Z",
        "AWS_REGION": "ap-northeast-1",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "ASSUMER_PROFILE": "r",
        "ASSUMER_EXPIRATION": str(int(EXPIRY.timestamp())),
        "ASSUMER_KEY_ID": "ASIAKEY",
    }


def test_long_term_keys_unset_the_stale_session_fields() -> None:
    variables = session_variables(Credentials("AKIA", "s"), "u", None)
    assert variables_to_unset(variables) == [
        "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "ASSUMER_ACCOUNT",
        "ASSUMER_EXPIRATION", "ASSUMER_OBTAINED",
    ]


def test_the_account_comes_from_the_role_arn_and_nothing_else() -> None:
    variables = session_variables(CREDS, "r", None, "arn:aws:iam::123456789012:role/R")
    assert variables["ASSUMER_ACCOUNT"] == "123456789012"
    assert list(variables).index("ASSUMER_ACCOUNT") == list(variables).index("ASSUMER_PROFILE") + 1
    for arn in (None, "arn:aws:iam::12345:role/R", "not an arn", "arn:aws:iam::12345678901x:role/R"):
        assert "ASSUMER_ACCOUNT" not in session_variables(CREDS, "r", None, arn)


VARS = {"A": "plain", "B": "it's $(x)\n"}


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("bash", "unset P;\nexport A=plain;\nexport B=$'it\\x27s\\x20\\x24\\x28x\\x29\\x0a';\n"),
        ("zsh", "unset P;\nexport A=plain;\nexport B=$'it\\x27s\\x20\\x24\\x28x\\x29\\x0a';\n"),
        ("fish", "if set -q -g P; set -e -g P; end;\nset -gx A plain;\nset -gx B 'it\\'s $(x)'\\x0a;\n"),
        ("powershell", "Remove-Item Env:P -ErrorAction SilentlyContinue\n$Env:A = 'plain'\n$Env:B = 'it''s $(x)\n'\n"),
        ("json", '{\n  "A": "plain",\n  "B": "it\'s $(x)\\n"\n}\n'),
    ],
)
def test_render_exact(shell: str, expected: str) -> None:
    assert render(VARS, ["P"], shell) == expected


def test_powershell_doubles_typographic_quotes() -> None:
    assert quote_powershell("a\u2018b\u2019c'd\u201ae\u201bf") == \
        "'a\u2018\u2018b\u2019\u2019c''d\u201a\u201ae\u201b\u201bf'"


def test_posix_quoting_keeps_no_whitespace_or_glob_for_unquoted_eval() -> None:
    quoted = quote_posix("a b\t*?[x]\u00e9")
    assert not any(c.isspace() for c in quoted) and not set("*?[]") & set(quoted)
    assert quoted == "$'a\\x20b\\x09\\x2a\\x3f\\x5bx\\x5d\\xc3\\xa9'"


def test_fish_quoting_keeps_each_statement_on_one_line() -> None:
    assert "\n" not in quote_fish("a\nb\\c'")
    assert quote_fish("") == "''"
    assert quote_posix("") == "$''"


def test_a_final_newline_is_quoted_like_any_other() -> None:
    # A regex "$" matches before a final newline: "eu-west-1\n" once went out bare.
    assert quote_posix("eu-west-1\n") == "$'eu-west-1\\x0a'"
    assert quote_fish("0\n") == "'0'\\x0a"
    with pytest.raises(ConfigError):
        render({"A": "0\n"}, [], "dotenv")


def test_dotenv_writes_session_values_bare() -> None:
    variables = session_variables(Credentials("ASIAKEY", "sec/ret+", "tok=en/+", EXPIRY), "r.x@y,z:1", "us-east-1")
    text = render(variables, ["P"], "dotenv")
    assert text.splitlines()[:3] == ["AWS_ACCESS_KEY_ID=ASIAKEY", "AWS_SECRET_ACCESS_KEY=sec/ret+",
                                     "AWS_SESSION_TOKEN=tok=en/+"]
    assert "ASSUMER_PROFILE=r.x@y,z:1\n" in text and '"' not in text


@pytest.mark.parametrize("value", ["it's", "a b", "$(x)", "`x`", "${HOME}", 'q"', "a#b", "~", "a\\b", "\n", "é", "*"])
def test_dotenv_refuses_what_its_readers_read_differently(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        render({"ASSUMER_PROFILE": value}, [], "dotenv")
    assert "ASSUMER_PROFILE" in caught.value.message and value not in caught.value.message
    assert caught.value.exit_code == 3


def test_unset_covers_every_variable() -> None:
    text = render_unset("bash")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_REGION", "ASSUMER_PROFILE", "AWS_PROFILE"):
        assert name in text


def test_render_rejects_unknown_shell() -> None:
    with pytest.raises(ValueError):
        render({}, [], "tcsh")


def test_credential_process_document() -> None:
    assert credential_process_json(CREDS) == (
        '{"Version": 1, "AccessKeyId": "ASIAKEY", "SecretAccessKey": "sec/ret+", '
        '"SessionToken": "tok=en", "Expiration": "2026-01-02T03:04:05Z"}\n'
    )


def test_obtained_goes_to_the_shell_for_the_renewal_rule_never_to_credential_process() -> None:
    from assumer.cli.render import credential_process_json

    creds = CREDS._replace(obtained=EXPIRY - timedelta(seconds=900))
    assert session_variables(creds, "r", None)["ASSUMER_OBTAINED"] == str(int(EXPIRY.timestamp()) - 900)
    assert "Obtained" not in credential_process_json(creds)

"""Which invocations the click-free fast path takes; everything else goes to click."""

from __future__ import annotations

import io

import pytest

from assumer.cli.fastpath import parse, serve


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["env", "r"], ("env", "r", None)),
        (["env", "r", "--shell", "fish"], ("env", "r", "fish")),
        (["env", "--shell", "zsh", "r"], ("env", "r", "zsh")),
        (["env", "--shell=json", "r"], ("env", "r", "json")),
        (["credential-process", "r"], ("credential-process", "r", None)),
    ],
)
def test_served_forms(argv: list[str], expected: tuple) -> None:
    assert parse(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [], ["env"], ["env", "--unset"], ["env", "r", "r2"], ["env", "r", "--refresh"], ["env", "r", "--shell"],
        ["env", "r", "--shell", "tcsh"], ["credential-process", "r", "--shell", "bash"], ["exec", "r"],
        ["--debug", "env", "r"], ["env", "-h"], ["whoami", "r"], ["env", "r", "--mfa-code", "123456"],
    ],
)
def test_everything_else_goes_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_declines_on_any_error_without_output(tmp_path) -> None:
    out = io.StringIO()
    environ = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "missing")}
    assert serve(["env", "nosuchprofile"], environ=environ, out=out) is False
    assert out.getvalue() == ""


def test_ctrl_c_on_the_fast_path_is_exit_130_without_a_traceback(monkeypatch, capsys) -> None:
    from assumer.cli import entry, fastpath

    def interrupted(argv: list[str]) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(fastpath, "serve", interrupted)
    monkeypatch.setattr("sys.argv", ["assumer", "env", "r"])
    with pytest.raises(SystemExit) as stopped:
        entry.main()
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "assumer: interrupted\n"


def test_debug_is_a_group_option_only() -> None:
    from assumer.cli.app import debug_requested

    assert debug_requested(["--debug", "env", "r"])
    assert not debug_requested(["exec", "r", "--", "tool", "--debug"])
    assert not debug_requested(["env", "r"])

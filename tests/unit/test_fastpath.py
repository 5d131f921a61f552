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


class RecordingReader:
    """Stands in for secretservice.Reader: records what the fast path asks of it."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.asked: list[tuple[str, str]] = []
        self.closed = False

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.closed = True

    def get_password(self, service: str, username: str) -> str | None:
        self.asked.append((service, username))
        return self.secret


def test_the_reader_is_opened_first_and_closed_when_the_profile_is_unknown(tmp_path, monkeypatch) -> None:
    from assumer.store import secretservice

    reader = RecordingReader(None)
    monkeypatch.setattr(secretservice, "open_reader", lambda **_: reader)
    environ = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(tmp_path / "missing")}
    assert serve(["env", "nosuchprofile"], environ=environ, out=io.StringIO()) is False
    assert reader.closed and reader.asked == []


def test_the_reader_is_asked_for_the_session_key_and_closed(tmp_path, monkeypatch) -> None:
    from assumer.core.cachekey import session_key
    from assumer.core.profiles import AwsConfig
    from assumer.store import secretservice

    config = tmp_path / "config"
    config.write_text("[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\ncredential_source = Environment\n")
    environ = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(config), "USER": "alice"}
    reader = RecordingReader(None)  # no entry: the fast path declines, the full path will assume the role
    monkeypatch.setattr(secretservice, "open_reader", lambda **_: reader)
    assert serve(["credential-process", "r"], environ=environ, out=io.StringIO()) is False
    aws = AwsConfig.load(environ)
    assert reader.asked == [("assumer", session_key(aws.resolve("r"), environ=environ, config=aws))]
    assert reader.closed


def test_a_fallback_when_opening_declines_without_reading_the_config(tmp_path, monkeypatch) -> None:
    from assumer.core.profiles import AwsConfig
    from assumer.store import secretservice

    def refuse(**_: object) -> None:
        raise secretservice.Fallback("keyring would choose another backend")

    loaded: list[object] = []
    monkeypatch.setattr(secretservice, "open_reader", refuse)
    monkeypatch.setattr(AwsConfig, "load", classmethod(lambda cls, *args: loaded.append(args)))
    assert serve(["env", "r"], environ={"HOME": str(tmp_path)}, out=io.StringIO()) is False
    assert loaded == []  # the full path does it all (keyring's read included)

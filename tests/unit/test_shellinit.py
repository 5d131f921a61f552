"""``assumer shell-init``: the --name substitution, the loader --install writes, the usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from assumer.cli import shellinit
from assumer.cli.app import cli

SHELLS = ("bash", "zsh", "fish")


@pytest.mark.parametrize("shell", SHELLS)
def test_name_replaces_the_load_line_only(shell: str) -> None:
    plain = shellinit.script(shell)
    named = shellinit.script(shell, name="aws-assume")
    assert plain.count(shellinit.LOAD_LINES[shell]) == 1
    assert named == plain.replace(shellinit.LOAD_LINES[shell], "__assumer_load --name aws-assume\n")


@pytest.mark.parametrize("name", ["", "1x", "-x", "a;b", "a b", "$(x)", "a'b", "é"])
def test_a_name_that_is_not_a_plain_word_is_refused(name: str) -> None:
    result = CliRunner().invoke(cli, ["shell-init", "bash", "--name", name])
    assert result.exit_code == 2 and "a command name" in result.stderr
    with pytest.raises(ValueError):
        shellinit.script("bash", name=name)


@pytest.mark.parametrize("shell", SHELLS)
def test_install_writes_the_loader_and_prints_the_rc_line(shell: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data it's"))
    result = CliRunner().invoke(cli, ["shell-init", shell, "--install", "--name", "aws-assume"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "data it's" / "assumer" / f"assumer.{shell}"
    text = path.read_text()
    assert str(shellinit.script_path(shell)) in text  # the installation's own script, by path
    assert "shell-init " + shell + " --install" in text  # what it runs once that path is gone
    assert result.stdout.endswith(" --name aws-assume\n")
    assert result.stdout.startswith("source " if shell == "fish" else ". ")
    assert "wrote" in result.stderr


def test_the_loader_quotes_the_paths() -> None:
    text = shellinit.loader("bash", Path("/a b/$(x)/assumer.bash"), Path("/d/it's"))
    assert "$(x)" not in text and "'/a b" not in text
    assert "$'/a\\x20b/\\x24\\x28x\\x29/assumer.bash'" in text

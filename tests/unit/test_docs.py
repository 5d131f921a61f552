"""Every command has help text and appears in the README; every exit code is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from assumer.cli.app import cli
from assumer import errors

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += commands(command, prefix + name + " ")
    return found


@pytest.mark.parametrize(("name", "command"), commands(cli))
def test_command_has_help_and_is_in_readme(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip()
    assert f"assumer {name}" in README


def test_every_exit_code_is_in_the_readme_table() -> None:
    codes = {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.AssumerError)}
    table = set(re.findall(r"^\| (\d+)(?: / (\d+))? \|", README, re.M))
    documented = {int(code) for pair in table for code in pair if code}
    assert codes | {0, 2} <= documented

"""The README documents what the code does: every command, the exit codes, the time bounds."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from assumer import errors
from assumer.cli.app import cli
from assumer.core import sts

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


def readme_exit_codes() -> set[int]:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    codes: set[int] = set()
    for row in re.findall(r"^\| ([0-9 /]+) \|", section, re.M):
        codes.update(int(code) for code in row.split("/"))
    return codes


def test_every_error_class_exit_code_is_in_the_readme_table() -> None:
    classes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.AssumerError)]
    assert len(classes) >= 8  # AssumerError and its seven kinds: the scan found them all
    documented = readme_exit_codes()
    for cls in classes:
        assert cls.exit_code in documented, f"{cls.__name__} exits {cls.exit_code}, not in README's table"


def test_readme_table_has_the_design_codes() -> None:
    # 0 and 2 (click's usage errors) come from no error class.
    # 143: ecr-push / ecr-login stopped by SIGTERM (tests/integration/test_ecr_push.py).
    assert readme_exit_codes() == {0, 1, 2, 3, 4, 5, 6, 7, 126, 127, 130, 143}


def test_time_bounds_in_the_readme_are_the_defaults_in_sts() -> None:
    text = " ".join(README.split())
    assert (f"{sts.CONNECT_TIMEOUT:g} s connect timeout, a {sts.READ_TIMEOUT:g} s read timeout "
            f"and at most {sts.MAX_ATTEMPTS} attempts") in text
    for variable in ("ASSUMER_CONNECT_TIMEOUT", "ASSUMER_READ_TIMEOUT", "ASSUMER_MAX_ATTEMPTS"):
        assert variable in README

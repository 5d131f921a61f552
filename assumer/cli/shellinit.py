"""The shell integration scripts in ``shell/``, shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from assumer.errors import AssumerError


def script_path(shell: str) -> Path:
    """The script for ``shell``: in the wheel (assumer/shell/) or, from a checkout, the top-level shell/."""
    name = f"assumer.{shell}"
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "shell" / name, package.parent / "shell" / name):
        if candidate.is_file():
            return candidate
    raise AssumerError(f"the {shell} integration ({name}) is missing from this installation", hint="reinstall assumer")


def script(shell: str) -> str:
    """The text of the integration for ``shell``."""
    return script_path(shell).read_text(encoding="utf-8")

"""Messages to the user: always stderr, each said at most once per process."""

from __future__ import annotations

import sys

_said: set[str] = set()


def warn(message: str) -> None:
    """One ``assumer: warning:`` line on stderr (repeats are dropped)."""
    _say(f"assumer: warning: {message}")


def info(message: str) -> None:
    """One ``assumer:`` line on stderr (repeats are dropped)."""
    _say(f"assumer: {message}")


def _say(line: str) -> None:
    if line in _said:
        return
    _said.add(line)
    try:
        print(line, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):  # stderr gone: nothing better to do
        pass

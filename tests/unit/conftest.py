"""Unit tests start no process, shell or service: tests that need one belong in tests/integration.

The autouse fixture below turns that rule into a failure, naming the call, rather
than leaving it to review.
"""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Callable

import pytest

# Every way this process could start another program.
PROCESS_STARTERS = [(subprocess, "Popen"), (os, "fork"), (os, "forkpty"), (os, "system"),
                    (os, "posix_spawn"), (os, "posix_spawnp"), (pty, "fork")]


def _refuse(name: str) -> Callable[..., None]:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a unit test called {name}: tests that start processes, shells or "
                             "services belong in tests/integration")
    return refused


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, attribute in PROCESS_STARTERS:
        if hasattr(module, attribute):
            monkeypatch.setattr(module, attribute, _refuse(f"{module.__name__}.{attribute}"))

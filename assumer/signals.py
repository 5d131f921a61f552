"""SIGTERM handling shared by both console scripts (``assumer`` and ``docker-credential-assumer``)."""

from __future__ import annotations

import signal
from types import FrameType


def interrupt_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C does (exit 130, no traceback, nothing left behind).

    Installed before anything else, so the fast path and click's start-up are
    covered too; ``ecr-push`` / ``ecr-login`` install their own handler to stop the
    engine first (exit 143).
    """

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)

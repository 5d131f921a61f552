"""The ``assumer`` console script: the cache-hit fast path first, click for everything else."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def interrupt_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C does (exit 130, no traceback, nothing left behind).

    Installed before anything else, so the fast path and click's start-up are
    covered too; ``ecr-push`` / ``ecr-login`` install their own handler to stop the
    engine first (exit 143).
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    """Run ``assumer``; a cached ``env``/``credential-process`` never imports click or boto3."""
    interrupt_on_sigterm()
    _open_closed_streams()
    try:
        from assumer import fastpath

        if fastpath.serve(sys.argv[1:]):
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                pass
            return
        from assumer.cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C before click's main runs: as cli.main reports it, no traceback
        from assumer import ui

        ui.info("interrupted")
        sys.exit(130)
    cli_main()


def _open_closed_streams() -> None:
    """Started with stdin, stdout or stderr closed (``<&-``): read nothing, write nowhere, never crash.

    Opening /dev/null also takes the lowest free descriptor, so the closed one is
    filled and a command started by ``exec`` gets it too.
    """
    import os

    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 - lives as long as the process

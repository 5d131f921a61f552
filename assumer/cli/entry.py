"""The ``assumer`` console script: the cache-hit fast path first, click for everything else."""

from __future__ import annotations

import os
import sys

from assumer.signals import interrupt_on_sigterm


def main() -> None:
    """Run ``assumer``; a cached ``env``/``credential-process`` never imports click or boto3."""
    interrupt_on_sigterm()
    _open_closed_streams()
    try:
        from assumer.cli import fastpath

        if fastpath.serve(sys.argv[1:]):
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                pass
            return
        from assumer.cli.app import run
    except KeyboardInterrupt:  # Ctrl-C before click's main runs: as app.run reports it, no traceback
        from assumer import ui

        ui.info("interrupted")
        sys.exit(130)
    run()


def _open_closed_streams() -> None:
    """Started with stdin, stdout or stderr closed (``<&-``): read nothing, write nowhere, never crash.

    Opening /dev/null also takes the lowest free descriptor, so the closed one is
    filled and a command started by ``exec`` gets it too.
    """
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 - lives as long as the process

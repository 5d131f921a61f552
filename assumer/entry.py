"""The ``assumer`` console script: the cache-hit fast path first, click for everything else."""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``assumer``; a cached ``env``/``credential-process`` never imports click or boto3."""
    from assumer import fastpath

    if fastpath.serve(sys.argv[1:]):
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        return
    from assumer.cli import main as cli_main

    cli_main()

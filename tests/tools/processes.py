"""Stopping the service processes the test tools start."""

from __future__ import annotations

import subprocess


def terminate(process: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM ``process`` if it still runs, SIGKILL it after ``timeout`` seconds, reap it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

"""The single-flight lock: one process per cache key talks to STS, the rest wait.

``flock`` is released by the kernel when its holder dies, so a killed process
never blocks the next call. The wait has a timeout because the holder may be
sitting at an MFA prompt.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from assumer import logs, ui
from assumer.errors import ConfigError

DEFAULT_TIMEOUT = 120.0
_POLL = 0.02


def lock_timeout() -> float:
    """``ASSUMER_LOCK_TIMEOUT`` seconds (default 120), how long to wait for another process."""
    try:
        value = float(os.environ.get("ASSUMER_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    # nan would never reach the deadline (every comparison is False): a hang, not a timeout.
    return value if value >= 0 else DEFAULT_TIMEOUT


@contextmanager
def single_flight(name: str, *, timeout: float | None = None) -> Iterator[bool]:
    """Hold the lock called ``name``; yields False if it could not be had in time.

    On a timeout the caller goes ahead unlocked (a duplicate AssumeRole is better
    than a hung shell), and says so.
    """
    wait = lock_timeout() if timeout is None else timeout
    from assumer import paths  # pathlib: only on a cache miss

    path = paths.lock_dir() / f"{name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:  # ELOOP: a symlink planted where the lock file belongs
        raise ConfigError(f"cannot open the lock file {path}: {exc.strerror}",
                           hint="remove it; assumer creates a new one") from None
    try:
        started = time.monotonic()
        deadline = started + wait
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                if waited:
                    logs.debug(__name__, "got the lock %s after %.1fs", path, time.monotonic() - started)
                break
            except BlockingIOError:
                if not waited:
                    logs.debug(__name__, "another assumer holds the lock %s: waiting up to %.0fs", path, wait)
                    waited = True
                if time.monotonic() >= deadline:
                    ui.warn(f"another assumer has held {path} for {wait:.0f}s; going ahead without it")
                    held = False
                    break
                time.sleep(_POLL)
        yield held
    finally:
        os.close(fd)  # closing the descriptor releases the flock

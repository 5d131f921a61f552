"""Scans for secrets on disk: which files under some roots hold a given secret."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

MAX_SCANNED_FILE = 16 * 1024 * 1024  # big blobs are image layers and venvs, not sessions


def keyring_store_dirs() -> list[Path]:
    """Where the test keyring daemon keeps its own (encrypted) files; left out of scans.

    tests/run.sh names the daemon's HOME in TESTS_KEYRING_HOME.
    """
    home = os.environ.get("TESTS_KEYRING_HOME")
    return [Path(home) / ".local" / "share" / "keyrings"] if home else []


def files_containing(secret: str, *roots: Path, exclude: Iterable[Path] = ()) -> list[Path]:
    """Every regular file under ``roots`` whose bytes contain ``secret``."""
    return files_with_secrets({secret}, *roots, exclude=exclude).get(secret, [])


def files_with_secrets(secrets: Iterable[str], *roots: Path,
                       exclude: Iterable[Path] = ()) -> dict[str, list[Path]]:
    """For each of ``secrets`` found, the regular files under ``roots`` that contain it.

    One pass for many secrets, since a walk of /tmp is the slow part. Symlinks are not
    followed and unreadable or vanishing files are passed over: the scan runs while
    other processes create and delete files in /tmp.
    """
    wanted = {secret.encode(): secret for secret in secrets}
    excluded = {Path(p).resolve() for p in [*exclude, *keyring_store_dirs()]}
    found: dict[str, list[Path]] = {}
    for root in roots:
        for directory, subdirs, files in os.walk(root):
            here = Path(directory)
            subdirs[:] = [d for d in subdirs if (here / d).resolve() not in excluded]
            for name in files:
                path = here / name
                try:
                    info = path.lstat()
                    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SCANNED_FILE:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                for raw, secret in wanted.items():
                    if raw in data:
                        found.setdefault(secret, []).append(path)
    return found


def files_written_since(secret: str, *roots: Path, since: float) -> list[Path]:
    """Files under ``roots`` holding ``secret`` that were written at or after ``since`` (epoch seconds).

    /tmp is shared with whatever else runs on the machine (other test runs, their
    logs); what a command under test wrote is what changed while it ran.
    """
    found = []
    for path in files_containing(secret, *roots):
        try:
            if path.stat().st_mtime >= since - 1:  # file systems keep coarse times
                found.append(path)
        except OSError:
            continue
    return found

"""Running a command with a session: the child's environment and execvp."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Mapping
from typing import NoReturn

from assumer.errors import CommandNotExecutable, CommandNotFound


def child_environment(base: Mapping[str, str], variables: Mapping[str, str], unset: Iterable[str]) -> dict[str, str]:
    """``base`` with ``unset`` removed and ``variables`` set."""
    removed = set(unset)
    env = {name: value for name, value in base.items() if name not in removed}
    env.update(variables)
    return env


def default_command(environ: Mapping[str, str]) -> list[str]:
    """No command given: the user's ``$SHELL``, else ``/bin/sh``."""
    shell = environ.get("SHELL")
    return [shell] if shell else ["/bin/sh"]


def replace_process(argv: list[str], env: Mapping[str, str]) -> NoReturn:
    """Replace this process with ``argv`` (list argv, PATH search, never a shell string).

    Fails as env(1) does: 127 when the command is not found, 126 when it
    cannot be run.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        os.execvpe(argv[0], argv, dict(env))
    except FileNotFoundError:
        raise CommandNotFound(f"{argv[0]}: command not found") from None
    except PermissionError:
        raise CommandNotExecutable(f"{argv[0]}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise CommandNotFound(f"{argv[0]}: command not found") from None
        raise CommandNotExecutable(f"{argv[0]}: cannot run: {exc.strerror}") from None

"""Running a command with a session: the child's environment and execvp."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterable, Mapping
from typing import NoReturn

from assumer.errors import CommandNotExecutable, CommandNotFound

# Set in exec's child when it runs inside another session of assumer's: that session's profile.
PARENT_VARIABLE = "ASSUMER_PARENT_PROFILE"


def child_environment(base: Mapping[str, str], variables: Mapping[str, str], unset: Iterable[str]) -> dict[str, str]:
    """``base`` with ``unset`` removed and ``variables`` set."""
    removed = set(unset)
    env = {name: value for name, value in base.items() if name not in removed}
    env.update(variables)
    return env


# What outranks a container endpoint in the SDKs' chain, or would point them elsewhere.
SERVER_REMOVES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                  "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                  "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ASSUMER_EXPIRATION", "ASSUMER_OBTAINED", "ASSUMER_KEY_ID")


def server_environment(base: Mapping[str, str], *, url: str, token: str, region: str | None, profile: str,
                       hide_credentials_file: bool, parent: str | None = None) -> dict[str, str]:
    """``exec --server``'s child: the endpoint and its token, the region; no keys, nothing that outranks them."""
    variables = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
                 "ASSUMER_PROFILE": profile}
    if region:
        variables["AWS_REGION"] = variables["AWS_DEFAULT_REGION"] = region
    if hide_credentials_file:
        variables["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    if parent:
        variables[PARENT_VARIABLE] = parent
    return child_environment(base, variables, (*SERVER_REMOVES, PARENT_VARIABLE))


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


def run_in_foreground(argv: list[str], env: Mapping[str, str]) -> int:
    """Run ``argv`` as a child that holds the terminal, forwarding INT, TERM, HUP and QUIT; its status.

    Unlike :func:`replace_process`, assumer stays the parent (``exec --server`` must
    outlive nothing and serve until the command ends). The child gets a process group
    of its own and the terminal's foreground, as a shell gives a job, so keys reach it
    alone; a signal sent to assumer is passed on. Ctrl-Z stops both, ``fg`` resumes both.
    Returns the child's exit status, 128+N when signal N ended it.
    """
    import signal
    import subprocess

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    terminal = _foreground_terminal()
    # process_group is Python 3.11's; before it, setpgrp in the child (no thread is running yet).
    group: dict[str, object] = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
    try:
        child = subprocess.Popen(argv, env=dict(env), **group)  # type: ignore[call-overload]  # kwargs by version
    except FileNotFoundError:
        raise CommandNotFound(f"{argv[0]}: command not found") from None
    except PermissionError:
        raise CommandNotExecutable(f"{argv[0]}: permission denied") from None
    except OSError as exc:
        raise CommandNotExecutable(f"{argv[0]}: cannot run: {exc.strerror}") from None

    def forward(signum: int, _frame: object) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    previous = {signum: signal.signal(signum, forward) for signum in forwarded}
    try:
        if terminal is not None:
            _give_terminal(terminal, child.pid)
        while True:
            _, status = os.waitpid(child.pid, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                break
            # Ctrl-Z stopped the child: take the terminal back and stop as its job would; on fg, resume it.
            if terminal is not None:
                _give_terminal(terminal, os.getpgrp())
            os.kill(os.getpid(), signal.SIGSTOP)
            if terminal is not None:
                _give_terminal(terminal, child.pid)
            forward(signal.SIGCONT, None)
    finally:
        if terminal is not None:
            _give_terminal(terminal, os.getpgrp())
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    code = os.waitstatus_to_exitcode(status)
    child.returncode = code
    return 128 - code if code < 0 else code


def _foreground_terminal() -> int | None:
    """stdin's descriptor when it is a terminal whose foreground is this process's group."""
    try:
        fd = sys.stdin.fileno()
        return fd if os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp() else None
    except (AttributeError, OSError, ValueError):
        return None


def _give_terminal(fd: int, group: int) -> None:
    import signal

    # A process group not in the foreground is stopped by SIGTTOU when it calls tcsetpgrp.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    except OSError:
        pass  # the terminal went away, or the group has exited: nothing to hand over
    finally:
        signal.signal(signal.SIGTTOU, previous)

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
    _flush_streams()
    try:
        os.execvpe(argv[0], argv, dict(env))
    except OSError as exc:
        raise _cannot_run(argv[0], exc) from None


def run_in_foreground(argv: list[str], env: Mapping[str, str]) -> int:
    """Run ``argv`` as a child that holds the terminal, forwarding INT, TERM, HUP and QUIT; its status.

    Unlike :func:`replace_process`, assumer stays the parent (``exec --server`` must
    serve until the command ends). On a terminal whose foreground is assumer's, the
    child gets a process group of its own and the foreground, as a shell gives a job, so
    keys reach it alone; Ctrl-Z stops both, ``fg`` resumes both. A signal sent to assumer
    is passed on. Returns the child's exit status, 128+N when signal N ended it.
    """
    import signal
    import subprocess

    _flush_streams()
    terminal = _foreground_terminal()
    child: subprocess.Popen[bytes] | None = None
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child is None:  # arrived while the child was being started: passed on once it is
            pending.append(signum)
            return
        try:
            if terminal is not None:
                os.killpg(child.pid, signum)
            else:
                os.kill(child.pid, signum)
        except ProcessLookupError:
            pass

    # Installed first: a signal in the window before the child exists is not lost.
    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    previous = {signum: signal.signal(signum, forward) for signum in forwarded}
    try:
        group: dict[str, object] = {}
        if terminal is not None:  # its own group, to hold the terminal (process_group is Python 3.11's)
            group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
        try:
            child = subprocess.Popen(argv, env=dict(env), **group)  # type: ignore[call-overload]  # by version
        except OSError as exc:
            raise _cannot_run(argv[0], exc) from None
        for signum in pending:
            forward(signum, None)
        if terminal is not None:
            _give_terminal(terminal, child.pid)
        while True:
            _, status = os.waitpid(child.pid, os.WUNTRACED)
            if not os.WIFSTOPPED(status):
                break
            if terminal is not None and os.WSTOPSIG(status) in (signal.SIGTTIN, signal.SIGTTOU):
                # It touched the terminal before it was handed over: hand it over, let it go on.
                _give_terminal(terminal, child.pid)
                forward(signal.SIGCONT, None)
                continue
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


def _flush_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _cannot_run(command: str, exc: OSError) -> CommandNotFound | CommandNotExecutable:
    """As env(1) reports it: 127 when the command is not found, 126 when it cannot be run."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return CommandNotFound(f"{command}: command not found")
    if isinstance(exc, PermissionError):
        return CommandNotExecutable(f"{command}: permission denied")
    return CommandNotExecutable(f"{command}: cannot run: {exc.strerror}")


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

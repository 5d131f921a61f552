"""The shells as a person uses them: interactive, on a terminal (a pseudo-terminal here).

What only a terminal shows: the MFA prompt that assumer writes to /dev/tty from inside
the shell function's command substitution, answered at the keyboard; and the refresh
that runs from the real prompt hook (PROMPT_COMMAND, precmd, the fish_prompt event)
when the next prompt is drawn, asking for a new MFA code in turn.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import time
from pathlib import Path

import pytest

from tests.tools.awsconfig import MFA_SERIAL

pytestmark = pytest.mark.integration

INTERACTIVE = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}
INIT = {
    "bash": 'eval "$(assumer shell-init bash)"; PS1="READY> "',
    "zsh": 'eval "$(assumer shell-init zsh)"; PS1="READY> "',
    "fish": "assumer shell-init fish | source; function fish_prompt; echo -n 'READY> '; end",
}
PROMPT = r"READY> "
OPT_IN = {
    "bash": "ASSUMER_AUTO_REFRESH=1; export ASSUMER_MIN_TTL=4000",
    "zsh": "ASSUMER_AUTO_REFRESH=1; export ASSUMER_MIN_TTL=4000",
    "fish": "set -g ASSUMER_AUTO_REFRESH 1; set -gx ASSUMER_MIN_TTL 4000",
}


class Terminal:
    """A program on a pseudo-terminal: type into it, wait for what it prints."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: nothing but exec
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.seen = ""

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, pattern: str, timeout: float = 30) -> str:
        """Wait until ``pattern`` (a regex) appears; return the output up to its end."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.seen)
            if match:
                before, self.seen = self.seen[:match.end()], self.seen[match.end():]
                return before
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} on the terminal within {timeout}s; it shows: {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # the program has gone
                    data = b""
                if not data:
                    raise AssertionError(f"the terminal closed before {pattern!r}; it showed: {self.seen!r}")
                self.seen += data.decode(errors="replace").replace("\r", "")

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
        for _ in range(50):
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def answer_mfa(terminal: Terminal, code: str) -> None:
    """Wait for the MFA prompt, type the code as a person would, wait for the shell's prompt.

    The prompt turns echo off and flushes pending input after it is shown, so the code
    is typed a moment later, not ahead of it.
    """
    terminal.expect(r"MFA code for " + re.escape(MFA_SERIAL) + r" \(rmfa\): ")
    time.sleep(1)
    terminal.type(code + "\n")
    terminal.expect(PROMPT)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_mfa_prompt_and_refresh_at_the_prompt_on_a_terminal(aws_home, shell: str) -> None:
    assert shutil.which(shell), f"{shell} is not installed (tests/run.sh installs it)"
    aws_home.add_role_profile("rmfa", f"mfa_serial = {MFA_SERIAL}")
    env = aws_home.process_env({"SHELL": shutil.which(shell) or shell, "TERM": "dumb", "PS1": "$ "})
    terminal = Terminal(INTERACTIVE[shell], env, aws_home.home)
    try:
        terminal.type(INIT[shell] + "; echo init-done\n")
        terminal.expect(r"init-done\n")
        terminal.expect(PROMPT)
        terminal.type("assume rmfa\n")
        answer_mfa(terminal, "123456")
        terminal.type("echo P=$ASSUMER_PROFILE-K=$AWS_ACCESS_KEY_ID\n")
        first = terminal.expect(r"P=rmfa-K=ASIA\w+")
        assert "123456" not in first  # the code is typed with echo off
        assert [p["TokenCode"] for p in aws_home.proxy.params("AssumeRole")] == ["123456"]
        terminal.expect(PROMPT)

        # Opting in with a minimum lifetime above the session's: the next prompt renews it,
        # and the MFA prompt comes back (the code is never remembered).
        terminal.type(OPT_IN[shell] + "\n")
        answer_mfa(terminal, "654321")
        terminal.type("echo Q=$ASSUMER_PROFILE-K=$AWS_ACCESS_KEY_ID\n")
        second = terminal.expect(r"Q=rmfa-K=ASIA\w+")
        assert [p["TokenCode"] for p in aws_home.proxy.params("AssumeRole")] == ["123456", "654321"]
        assert second.rsplit("K=", 1)[1] != first.rsplit("K=", 1)[1]  # the shell holds the new session
        assert all(p["SerialNumber"] == MFA_SERIAL for p in aws_home.proxy.params("AssumeRole"))
    finally:
        terminal.close()

"""A program on a pseudo-terminal, as a person runs it: type into it, wait for what it prints.

``pty.fork`` makes the child a session leader with the pty as its controlling terminal,
so ``/dev/tty`` (MFA prompts, the profile picker) is that terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import time
from pathlib import Path

# The shells as a person starts them (no rc files), and the line that loads assumer's
# integration with a prompt a test can wait for.
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

    def status(self, timeout: float = 30) -> int:
        """Wait for the program to exit; its exit status (128+N for signal N), the terminal closed."""
        deadline = time.monotonic() + timeout
        while True:
            pid, raw = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                self.fd = -1
                return os.waitstatus_to_exitcode(raw) if os.WIFEXITED(raw) else 128 + os.WTERMSIG(raw)
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not exit within {timeout}s; it shows: {self.seen!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536).decode(errors="replace").replace("\r", "")
                except OSError:
                    pass

    def close(self) -> None:
        """Hang up and reap the program (a no-op once :meth:`status` has seen it exit)."""
        if self.fd < 0:
            return
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
        self.fd = -1

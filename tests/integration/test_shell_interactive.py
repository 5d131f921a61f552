"""The shells as a person uses them: interactive, on a terminal (a pseudo-terminal here).

What only a terminal shows: the MFA prompt that assumer writes to /dev/tty from inside
the shell function's command substitution, answered at the keyboard; and the refresh
that runs from the real prompt hook (PROMPT_COMMAND, precmd, the fish_prompt event)
when the next prompt is drawn, with the source's MFA session (no new code).
"""

from __future__ import annotations

import re
import shutil
import time

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.terminal import INIT, INTERACTIVE, PROMPT, Terminal

pytestmark = pytest.mark.integration

# Opting in with the shell's session made to look due by the renewal rule (100 s left of
# an hour), the cached one cleared, so that the next prompt makes a new session.
_DUE = "n=$(date +%s); ASSUMER_OBTAINED=$((n - 3500)); ASSUMER_EXPIRATION=$((n + 100)); "
_CLEAR = "assumer clear rmfa >/dev/null 2>&1; "
OPT_IN = {
    "bash": _DUE + _CLEAR + "ASSUMER_AUTO_REFRESH=1",
    "zsh": _DUE + _CLEAR + "ASSUMER_AUTO_REFRESH=1",
    "fish": ("set -g n (date +%s); set -gx ASSUMER_OBTAINED (math $n - 3500); "
             "set -gx ASSUMER_EXPIRATION (math $n + 100); " + _CLEAR + "set -g ASSUMER_AUTO_REFRESH 1"),
}


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
        assert [p["TokenCode"] for p in aws_home.proxy.params("GetSessionToken")] == ["123456"]
        terminal.expect(PROMPT)

        # Opting in with a role session that is due: the next prompt renews it with the
        # source's cached MFA session, so no code is asked (issue 12: one code per source).
        terminal.type(OPT_IN[shell] + "\n")
        terminal.expect(PROMPT)
        terminal.type("echo Q=$ASSUMER_PROFILE-K=$AWS_ACCESS_KEY_ID\n")
        second = terminal.expect(r"Q=rmfa-K=ASIA\w+")
        assert "MFA code for" not in second
        assert second.rsplit("K=", 1)[1] != first.rsplit("K=", 1)[1]  # the shell holds the new session
        [token] = aws_home.proxy.requests("GetSessionToken")
        assert token.params["SerialNumber"] == MFA_SERIAL
        assumes = aws_home.proxy.requests("AssumeRole")
        assert len(assumes) == 2 and all("TokenCode" not in a.params for a in assumes)
        assert {a.access_key_id for a in assumes} == set(aws_home.proxy.state.sessions)  # signed by the MFA session
    finally:
        terminal.close()

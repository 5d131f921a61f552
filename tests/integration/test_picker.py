"""The profile picker on a real terminal (a pseudo-terminal): type part of a name, Enter,
and the chosen profile's session is the one exported or used; Esc leaves nothing changed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.terminal import INIT, INTERACTIVE, Terminal

# What each shell runs: pick a profile through `assumer env` (stdout captured by the shell),
# then show which profile's session the shell now holds.
PICK_AND_SHOW = {
    "bash": ["bash", "--norc", "--noprofile", "-c",
             'code=$(assumer env --shell bash); echo "status=$?"; eval "$code"; echo "holds=${ASSUMER_PROFILE-none}"'],
    "zsh": ["zsh", "-f", "-c",
            'code=$(assumer env --shell zsh); echo "status=$?"; eval "$code"; echo "holds=${ASSUMER_PROFILE-none}"'],
    "fish": ["fish", "--no-config", "-c",
             'assumer env --shell fish | source; echo "status=$pipestatus[1]"; '
             'if set -q ASSUMER_PROFILE; echo "holds=$ASSUMER_PROFILE"; else; echo "holds=none"; end'],
}


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.close()


def start(aws_home: AwsHome, terminals: list[Terminal], argv: list[str]) -> Terminal:
    argv = [shutil.which(argv[0]) or argv[0], *argv[1:]]
    terminal = Terminal(argv, aws_home.process_env({"TERM": "xterm", "COLUMNS": "100", "LINES": "30"}),
                        aws_home.home)
    terminals.append(terminal)
    return terminal


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_type_part_of_a_name_and_enter_exports_that_profile(aws_home: AwsHome, terminals: list[Terminal],
                                                           shell: str) -> None:
    terminal = start(aws_home, terminals, PICK_AND_SHOW[shell])
    terminal.expect(r"profile> ")
    terminal.expect(r"R2 @ \d{12}")  # the list shows role and account, so similar names can be told apart
    terminal.type("2")
    terminal.expect(r"1/3")
    terminal.type("\r")
    terminal.expect(r"holds=r2\n")
    assert terminal.status() == 0
    assert aws_home.proxy.count("AssumeRole") == 2  # r2 is chained from r


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_escape_cancels_with_130_and_changes_nothing(aws_home: AwsHome, terminals: list[Terminal],
                                                      shell: str) -> None:
    terminal = start(aws_home, terminals, PICK_AND_SHOW[shell])
    terminal.expect(r"profile> ")
    terminal.type("\x1b")
    shown = terminal.expect(r"holds=none\n")
    assert "status=130" in shown and "interrupted" in shown
    assert aws_home.proxy.requests() == []


def test_arrows_move_and_the_best_match_comes_first(aws_home: AwsHome, terminals: list[Terminal]) -> None:
    terminal = start(aws_home, terminals, PICK_AND_SHOW["bash"])
    terminal.expect(r"profile> ")
    terminal.type("r")  # r and r2 match; r (the exact, shorter name) first
    terminal.expect(r"2/3")
    terminal.type("\x1b[B")  # down: r2
    terminal.type("\r")
    terminal.expect(r"holds=r2\n")


def test_exec_without_a_profile_picks_then_runs_the_command(aws_home: AwsHome, terminals: list[Terminal]) -> None:
    terminal = start(aws_home, terminals, ["assumer", "exec", "--", "sh", "-c", 'echo "ran as $ASSUMER_PROFILE"'])
    terminal.expect(r"profile> ")
    terminal.type("r\r")
    terminal.expect(r"ran as r\n")
    assert terminal.status() == 0


def test_credential_process_never_opens_the_picker(aws_home: AwsHome, terminals: list[Terminal]) -> None:
    terminal = start(aws_home, terminals, ["assumer", "credential-process"])
    assert terminal.status() == 2
    assert "profile> " not in terminal.seen and "Missing argument 'PROFILE'" in terminal.seen


# `assume` with no argument, typed at an interactive shell's prompt: the same picker.

def interactive_shell(aws_home: AwsHome, terminals: list[Terminal], shell: str) -> Terminal:
    terminal = start(aws_home, terminals, INTERACTIVE[shell])
    terminal.type(INIT[shell] + "; echo init-done\n")
    terminal.expect(r"init-done\n")
    terminal.expect(r"READY> ")
    return terminal


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_assume_alone_picks_and_exports_that_profile(aws_home: AwsHome, terminals: list[Terminal],
                                                     shell: str) -> None:
    terminal = interactive_shell(aws_home, terminals, shell)
    terminal.type("assume\n")
    terminal.expect(r"profile> ")
    terminal.expect(r"R2 @ \d{12}")
    terminal.type("2")
    terminal.expect(r"1/3")
    terminal.type("\r")
    said = terminal.expect(r"READY> ")
    assert "assume: profile r2, account 123456789012, region" in said  # the one line a person gets
    terminal.type("echo holds=$ASSUMER_PROFILE\n")
    terminal.expect(r"holds=r2\n")
    assert aws_home.proxy.count("AssumeRole") == 2  # r2 is chained from r


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_assume_alone_escape_changes_nothing(aws_home: AwsHome, terminals: list[Terminal], shell: str) -> None:
    terminal = interactive_shell(aws_home, terminals, shell)
    terminal.type("assume\n")
    terminal.expect(r"profile> ")
    terminal.type("\x1b")
    terminal.expect(r"READY> ")
    status = "$status" if shell == "fish" else "$?"
    terminal.type(f"echo rc={status} holds=${{ASSUMER_PROFILE:-none}}\n" if shell != "fish" else
                  f"echo rc={status} holds=(set -q ASSUMER_PROFILE; and echo $ASSUMER_PROFILE; or echo none)\n")
    terminal.expect(r"rc=130 holds=none\n")
    assert aws_home.proxy.requests() == []

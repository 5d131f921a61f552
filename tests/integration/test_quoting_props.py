"""Quoting, proven on the real shells: render -> evaluate in bash, zsh and fish -> the exact value.

Hypothesis draws lists of hostile values (quotes, backslashes, ``$``, backticks, globs,
control characters, newlines, non-ASCII, fish's private-use byte range, command
injections that would create a sentinel file). For each list, ONE process per shell
evaluates the rendered text in every form users type (``eval "$(...)"``, the
unquoted ``eval $(...)``, ``source``, ``| source``, fish's ``eval (...)``), each form
under its own variable names, and then runs ``env -0``: what the shell exported is
what an AWS SDK started from it sees, and it must equal the value byte for byte.
The sentinel file must never appear, and the variables the text unsets must be gone.

Environment values cannot hold NUL, and a str with a lone surrogate cannot be written
to an environment at all, so both are left out of the alphabet.

PowerShell cannot run here: tests/unit/test_quoting_powershell.py checks its output
against exact strings and a model of its single-quoted string rule.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from assumer.cli import render

SHELL_PATHS = {"bash": "/usr/bin/bash", "zsh": "/usr/bin/zsh", "fish": "/usr/bin/fish"}

# How users evaluate `assumer env` output: {file} stands for the command's output.
FORMS = {
    "bash": ['eval "$(cat {file})"', "eval $(cat {file})", ". {file}"],
    "zsh": ['eval "$(cat {file})"', "eval $(cat {file})", ". {file}"],
    "fish": ["source {file}", "cat {file} | source", "eval (cat {file})"],
}

# Characters with a meaning to some shell, or to the way output is split and joined.
SPECIAL = [
    *" \t\n\r\v\f'\"\\$`!*?[]{}()<>|&;#~%^=,:@-+./_\x01\x1b\x7f",
    "\u2018", "\u2019", "\u201c", "\u00e9", "\u4e2d", "\U0001f600", "\u0085", "\u2028", "\u00a0",
    "\ufeff", "\ufffd", "\uf600", "\uf6ff", "\uf8ff", "\u200b", "\x80", "\x9b",
]


def payloads(sentinel: Path) -> list[str]:
    """Ways a value could try to run ``touch SENTINEL`` in one shell or another."""
    cmd = f"touch {sentinel}"
    return [
        f"$({cmd})", f"`{cmd}`", f"'; {cmd}; '", f'"; {cmd}; "', f"\n{cmd}\n", f";{cmd};", f"&& {cmd}",
        f"| {cmd}", f"({cmd})", f"{{ {cmd}; }}", f"\\'; {cmd}; #", f"'\\''; {cmd}; '", f"\\\n{cmd}",
        f"$'\\x27'; {cmd}", f"';{cmd};'", f"\r\n{cmd}\r\n", f"%(touch {sentinel})", f"=(touch {sentinel})",
    ]


def values_strategy(sentinel: Path) -> st.SearchStrategy[list[str]]:
    anything = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
    special = st.sampled_from(SPECIAL)
    value = st.one_of(
        st.text(anything, max_size=40),
        st.text(special, max_size=30),
        st.text(st.one_of(special, anything), max_size=30),
        st.builds(lambda a, p, b: a + p + b, st.text(special, max_size=5), st.sampled_from(payloads(sentinel)),
                  st.text(special, max_size=5)),
        st.sampled_from(["", "-", "-x", "--", "-e", "=", "==ls", "=ls", "a:=ls", "a:~root", "~", "~root", "*",
                         "%1", "!!", "a=b"]),
    )
    return st.lists(value, min_size=1, max_size=12)


def shell_env(tmp: Path) -> dict[str, str]:
    """A clean environment: no rc files of the user, UTF-8, a throw-away HOME."""
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(tmp),
    }


def evaluate(shell: str, values: list[str], tmp: Path) -> list[dict[str, str]]:
    """Evaluate the rendered values in every form of ``shell``; per form, the exported variables."""
    path = SHELL_PATHS[shell]
    env = shell_env(tmp)
    lines = []
    for number, form in enumerate(FORMS[shell]):
        variables = {f"T{number}_{i}": value for i, value in enumerate(values)}
        text = render.render(variables, [f"T{number}_GONE"], shell)
        output = tmp / f"out{number}.txt"
        output.write_bytes(text.encode("utf-8"))
        env[f"T{number}_GONE"] = "still here"
        lines.append(form.format(file=output))
    lines.append("command env -0")
    # The working directory holds files that a stray glob would match.
    work = tmp / "cwd"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("a", "ls", "x1", "T0_0", "-x"):
        (work / name).touch()
    argv = [path, "--no-config", "-c", "\n".join(lines)] if shell == "fish" else [path, "-c", "\n".join(lines)]
    result = subprocess.run(argv, env=env, cwd=work, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stderr == b"", result.stderr.decode(errors="replace")
    exported: dict[str, str] = {}
    for entry in result.stdout.split(b"\0"):
        if entry:
            name, _, value = entry.decode("utf-8").partition("=")
            exported[name] = value
    per_form = []
    for number in range(len(FORMS[shell])):
        prefix = f"T{number}_"
        per_form.append({name[len(prefix):]: value for name, value in exported.items() if name.startswith(prefix)})
    return per_form


def check_round_trip(shell: str, values: list[str], tmp: Path, sentinel: Path) -> None:
    expected = {str(i): value for i, value in enumerate(values)}
    for form, got in zip(FORMS[shell], evaluate(shell, values, tmp), strict=True):
        assert "GONE" not in got, f"{form}: a variable to unset survived"
        assert got == expected, f"{form} did not round-trip"
    assert not sentinel.exists(), f"{shell}: a value ran code"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for shell, path in SHELL_PATHS.items():
        assert shutil.which(path), f"{shell} is not installed at {path} (tests/tools/setup.sh installs it)"
    return tmp_path_factory.mktemp("quoting")


SENTINEL_DIR = Path("/tmp") / f"assumer-quoting-sentinel-{os.getpid()}"
SENTINEL = SENTINEL_DIR / "ran"


@pytest.fixture(autouse=True, scope="module")
def _sentinel_dir():  # type: ignore[no-untyped-def]
    SENTINEL_DIR.mkdir(exist_ok=True)
    yield
    shutil.rmtree(SENTINEL_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_sentinel_yet() -> None:
    if SENTINEL.exists():
        SENTINEL.unlink()


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@PROPERTY
@given(values=values_strategy(SENTINEL))
@example(values=["0\n", "eu-west-1\n"])  # a final newline once went out unquoted (regex "$")
def test_render_then_evaluate_round_trips_exactly(shell: str, values: list[str], workdir: Path) -> None:
    check_round_trip(shell, values, workdir, SENTINEL)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_payload_is_inert_and_exact(shell: str, workdir: Path) -> None:
    """The known injections, all at once, in every form (not left to chance)."""
    check_round_trip(shell, payloads(SENTINEL) + SPECIAL + ["".join(SPECIAL), "=ls", "a:=ls", "a:~root"], workdir,
                     SENTINEL)


def test_sentinel_proves_itself(workdir: Path) -> None:
    """The sentinel check can fail: an unquoted value does create the file."""
    script = f"export X=$(touch {SENTINEL})"
    subprocess.run([SHELL_PATHS["bash"], "-c", script], check=True, env=shell_env(workdir))
    assert SENTINEL.exists()


def test_round_trip_check_can_fail(workdir: Path) -> None:
    """A naive double-quote renderer is caught by the same evaluation."""

    def naive(variables, unset, shell):  # type: ignore[no-untyped-def]
        return "".join(f'export {k}="{v}";\n' for k, v in variables.items())

    original = render.render
    render.render = naive  # type: ignore[assignment]
    try:
        with pytest.raises(AssertionError):
            check_round_trip("bash", ["a$HOME`b"], workdir, SENTINEL)
    finally:
        render.render = original  # type: ignore[assignment]

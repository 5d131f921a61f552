"""Hostile profile names through the whole flow: real `assumer env` output evaluated by real shells.

test_quoting_props.py proves the renderer on arbitrary values; this file
proves the end-to-end path a user runs: a profile whose NAME is shell code, assumed
against moto, its output evaluated with ``eval "$(assumer env P)"``, the unquoted
``eval $(assumer env P)`` (bash, zsh), ``| source`` and ``eval (...)`` (fish). The
name must come back exactly in ASSUMER_PROFILE, the exported keys must work with the
AWS CLI, and no injected command may run (sentinel files).

Names with white space and quotes are included, quoted in the header as botocore reads
it (shlex): ``[profile "a b'c\\"d"]``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.tools.awshome import AwsHome

# "--" ends the options: a profile may be called "-x".
FORMS = {
    "bash": ['eval "$(assumer env -- "$P")"', 'eval $(assumer env -- "$P")'],
    "zsh": ['eval "$(assumer env -- "$P")"', 'eval $(assumer env -- "$P")'],
    "fish": ["assumer env -- $P | source", "eval (assumer env -- $P)"],
}


def hostile_names(sentinel: Path) -> list[str]:
    s = str(sentinel)
    return [
        f"$(touch${{IFS}}{s}1)`touch${{IFS}}{s}2`;touch${{IFS}}{s}3&&x|touch${{IFS}}{s}4>y",
        f"(touch${{IFS}}{s}5)", "=ls", "a:=ls", "~root", "*", "-x", "$HOME", "é中😀", "{a,b}#x!!%1",
        # White space and quotes: written [profile "..."], as botocore (and so assumer) reads them.
        f"a b'c\"d $(touch {s}6); touch {s}7 #", "it's \\ `touch {s}8`",
        # Writes PWNED, PWNED2 or w into the working directory if it ever runs.
        "evil$(touch${IFS}PWNED)`touch${IFS}PWNED2`;x&y|z>w",
    ]


def add_profiles(aws_home: AwsHome, names: list[str]) -> None:
    for name in names:
        aws_home.add_role_profile(name)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_hostile_profile_names_round_trip_in_every_form_and_run_nothing(aws_home: AwsHome, shell: str,
                                                                        tmp_path: Path) -> None:
    assert shutil.which(shell), f"{shell} is not installed (tests/tools/setup.sh installs it)"
    sentinel = tmp_path / "ran"
    names = hostile_names(sentinel)
    add_profiles(aws_home, names)
    out = tmp_path / "out"
    out.mkdir()
    work = tmp_path / "cwd"  # files a stray glob would match
    work.mkdir()
    for name in ("a", "b", "ls", "y"):
        (work / name).touch()
    lines = [f"cd {work}"]
    env_extra = {}
    for i, name in enumerate(names):
        env_extra[f"P{i}"] = name
        for j, form in enumerate(FORMS[shell]):
            set_p = f"set P $P{i}" if shell == "fish" else f'P="$P{i}"'
            lines += [set_p, form, f'printf %s "$ASSUMER_PROFILE" > {out}/{i}-{j}',
                      "set -e ASSUMER_PROFILE" if shell == "fish" else "unset ASSUMER_PROFILE"]
    lines.append("aws sts get-caller-identity --query Arn --output text")
    result = aws_home.shell(shell, "\n".join(lines), env_extra=env_extra, timeout=300)
    assert result.returncode == 0, result.stderr
    assert ":assumed-role/R/" in result.stdout
    for i, name in enumerate(names):
        for j, form in enumerate(FORMS[shell]):
            assert (out / f"{i}-{j}").read_text() == name, (form, name)
    assert not list(tmp_path.glob("ran*")), "a profile name ran code"
    assert sorted(p.name for p in work.iterdir()) == ["a", "b", "ls", "y"]
    # Every name is the same role from the same source: one session (the cache key is the role, not the name).
    assert aws_home.proxy.count("AssumeRole") == 1

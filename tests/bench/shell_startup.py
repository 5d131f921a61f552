"""What the shell integration adds to the start of an interactive shell, by set-up form.

    .venv/bin/python -m tests.bench.shell_startup [--runs 30]   # alone: no services needed
    (tests/bench/compare.py runs it too, as a section of the benchmark's report)

Each shell starts interactive and exits at once (``bash -ic exit``), with an rc file
that holds nothing, the eval form (``eval "$(assumer shell-init bash)"``: a Python
start), or the loader written by ``assumer shell-init bash --install`` (sourced: no
Python). The forms run interleaved (none, eval, loader, none, ...) after a warm-up;
the report gives the medians, what each form adds to the bare shell, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.timing import Spawner, machine_header

SHELLS = ("bash", "zsh", "fish")
FORMS = ("none", "eval", "loader")
# The loader form may add this much to a bare shell's start (issue 12: "a few milliseconds").
LOADER_BUDGET = 0.005


@dataclass
class Form:
    shell: str
    form: str
    argv: list[str]
    env: dict[str, str]
    walls: list[float] = field(default_factory=list)


def rc_text(shell: str, form: str, loader: Path, assumer: Path) -> str:
    if form == "none":
        return ""
    if form == "eval":
        return f"{assumer} shell-init fish | source\n" if shell == "fish" else \
            f'eval "$({assumer} shell-init {shell})"\n'
    return f"source {loader}\n" if shell == "fish" else f". {loader}\n"


def forms(scratch: Path, assumer: Path, env: dict[str, str]) -> list[Form]:
    """Each shell and form, its rc file written under ``scratch``; the loaders installed once."""
    data = scratch / "data"
    installed = {**env, "XDG_DATA_HOME": str(data)}
    for shell in SHELLS:
        subprocess.run([str(assumer), "shell-init", shell, "--install"], env=installed, check=True,
                       capture_output=True)
    table = []
    for shell in SHELLS:
        for form in FORMS:
            base = scratch / f"{shell}-{form}"
            base.mkdir(parents=True)
            text = rc_text(shell, form, data / "assumer" / f"assumer.{shell}", assumer)
            extra = {"XDG_DATA_HOME": str(data)}
            if shell == "bash":
                (base / "bashrc").write_text(text)
                argv = ["bash", "--rcfile", str(base / "bashrc"), "-i", "-c", "exit"]
            elif shell == "zsh":
                (base / ".zshrc").write_text(text)
                argv, extra["ZDOTDIR"] = ["zsh", "-i", "-c", "exit"], str(base)
            else:
                (base / "fish").mkdir()
                (base / "fish" / "config.fish").write_text(text)
                argv, extra["XDG_CONFIG_HOME"] = ["fish", "-i", "-c", "exit"], str(base)
            table.append(Form(shell, form, argv, extra))
    return table


def check(spawner: Spawner, table: list[Form]) -> None:
    """Every form with the integration defines `assume` (a form that failed would look fast)."""
    probe = {"bash": "type -t assume", "zsh": "whence -w assume", "fish": "functions -q assume; and echo function"}
    for form in table:
        if form.form == "none":
            continue
        argv = [*form.argv[:-1], probe[form.shell]]
        sample = spawner.run(argv, env=form.env)
        if "function" not in sample.stdout:
            raise SystemExit(f"shell start-up: {form.shell} {form.form}: no assume function ({sample.stdout!r})")


def measure(spawner: Spawner, table: list[Form], runs: int) -> None:
    for round_ in range(runs + 1):  # round 0: warm-up
        for form in table:
            sample = spawner.run(form.argv, env=form.env)
            if round_:
                form.walls.append(sample.wall)


def section(table: list[Form], runs: int) -> list[str]:
    median = {(f.shell, f.form): statistics.median(f.walls) for f in table}
    lowest = {(f.shell, f.form): min(f.walls) for f in table}
    lines = [f"### Shell start-up ({runs} interleaved rounds of `SHELL -i -c exit`)", "",
             "| shell | no integration | eval form | loader form | eval adds | loader adds | loader / none "
             f"| loader adds <= {LOADER_BUDGET * 1000:.0f} ms |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for shell in SHELLS:
        none, ev, ld = (median[(shell, form)] for form in FORMS)
        ok = ld - none <= LOADER_BUDGET or lowest[(shell, "loader")] - lowest[(shell, "none")] <= LOADER_BUDGET
        lines.append(f"| {shell} | {none * 1000:.1f} ms | {ev * 1000:.1f} ms | {ld * 1000:.1f} ms "
                     f"| {(ev - none) * 1000:+.1f} ms | {(ld - none) * 1000:+.1f} ms | {ld / none:.2f}x "
                     f"| {'yes' if ok else '**no**'} |")
    return lines


def run_section(spawner: Spawner, scratch: Path, assumer: Path, runs: int) -> list[str]:
    table = forms(scratch, assumer, spawner.env)
    check(spawner, table)
    measure(spawner, table, runs)
    return section(table, runs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed rounds (default 30)")
    args = parser.parse_args(argv)
    assumer = Path(sys.prefix) / "bin" / "assumer"
    with tempfile.TemporaryDirectory(prefix="assumer-shell-bench-") as tmp:
        scratch = Path(tmp)
        (scratch / "home").mkdir()
        keep = ("LANG", "LC_ALL", "TERM", "TZ")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(HOME=str(scratch / "home"), PATH=f"{assumer.parent}:/usr/local/bin:/usr/bin:/bin")
        spawner = Spawner(scratch, cwd=scratch / "home", env=env)
        lines = run_section(spawner, scratch, assumer, args.runs)
    print(f"Machine: {machine_header()}.\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Where a cached ``assumer env r`` spends its import time: ``python -X importtime``, parsed.

Each line of ``-X importtime`` is ``import time: SELF | CUMULATIVE | <indent>NAME``,
children before their parent, two spaces of indent per level. Several runs are
taken and each module's median kept, since one run on a busy machine is noisy.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

RUNS = 5
TOP = 20
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")
WATCH = ("boto3", "botocore", "keyring", "jaraco", "secretstorage", "jeepney", "cryptography", "click",
         "importlib.metadata", "urllib.request", "email", "http.client", "json", "datetime", "logging")


def parse(stderr: str) -> list[tuple[str, int, int, str]]:
    """(name, self_us, cumulative_us, parent) for each import, in the order printed."""
    entries = []
    for line in stderr.splitlines():
        found = LINE.match(line)
        if found:
            entries.append((found.group(4), int(found.group(1)), int(found.group(2)), len(found.group(3)) // 2))
    parents = [""] * len(entries)
    waiting: dict[int, list[int]] = defaultdict(list)  # depth -> indexes whose parent is still to come
    for i, (name, _, _, depth) in enumerate(entries):
        for child in waiting.pop(depth + 1, []):
            parents[child] = name
        waiting[depth].append(i)
    return [(name, own, cumulative, parents[i]) for i, (name, own, cumulative, _) in enumerate(entries)]


@dataclass(frozen=True)
class Case:
    title: str
    argv: list[str]  # after ``python -X importtime``
    env: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    table: bool = False  # show its top imports, not only the summary line


@dataclass
class Profile:
    case: Case
    runs: dict[str, list[tuple[int, int, str]]] = field(default_factory=lambda: defaultdict(list))
    totals: list[int] = field(default_factory=list)

    def add(self, stderr: str) -> None:
        entries = parse(stderr)
        self.totals.append(sum(c for _, _, c, p in entries if not p))
        for name, own, cumulative, parent in entries:
            self.runs[name].append((own, cumulative, parent))

    def merged(self) -> dict[str, tuple[int, int, str]]:
        """Median self and cumulative time per module, and who imported it (first run)."""
        return {name: (int(statistics.median(o for o, _, _ in v)), int(statistics.median(c for _, c, _ in v)),
                       v[0][2]) for name, v in self.runs.items()}

    def summary(self) -> str:
        merged = self.merged()
        present = [f"{w} (from {self.importer(w, merged)})" for w in WATCH if w in merged]
        return (f"{self.case.title}: {len(merged)} modules, {statistics.median(self.totals) / 1000:.0f} ms of "
                f"imports; loaded: {', '.join(present) or 'none of the watched modules'}.")

    @staticmethod
    def importer(name: str, merged: dict[str, tuple[int, int, str]]) -> str:
        """The nearest importer of ``name`` outside its own package, or "run time" (a lazy import)."""
        package, seen = name.split(".")[0], set()
        parent = merged[name][2]
        while parent and parent.split(".")[0] == package and parent not in seen:
            seen.add(parent)
            parent = merged.get(parent, (0, 0, ""))[2]
        return f"`{parent}`" if parent else "run time"

    def table(self) -> list[str]:
        lines = [f"Top {TOP} imports of {self.case.title} by cumulative time:", "",
                 "| module (imported by) | cumulative | self |", "| --- | ---: | ---: |"]
        for name, (own, cumulative, parent) in sorted(self.merged().items(), key=lambda i: -i[1][1])[:TOP]:
            by = f" ({parent})" if parent else ""
            seen = len(self.runs[name])
            by += f", in {seen} of {len(self.totals)} runs" if seen < len(self.totals) else ""
            lines.append(f"| `{name}`{by} | {cumulative / 1000:.1f} ms | {own / 1000:.1f} ms |")
        return lines + [""]


def profile(cases: list[Case], env: Mapping[str, str], cwd: Path, python: Path) -> list[Profile]:
    """RUNS runs of each case, interleaved (A B C A B C ...) as the timings are."""
    profiles = [Profile(case) for case in cases]
    for _ in range(RUNS):
        for prof in profiles:
            case = prof.case
            done = subprocess.run([str(python), "-X", "importtime", *case.argv], cwd=cwd,
                                  env={**env, **case.env}, input=case.stdin, capture_output=True, text=True,
                                  timeout=120, check=False)
            if done.returncode:
                raise SystemExit(f"importtime run of {case.title} failed ({done.returncode}): "
                                 f"{done.stderr[-2000:]}")
            prof.add(done.stderr)
    return profiles


def section(cases: list[Case], env: Mapping[str, str], cwd: Path, python: Path) -> list[str]:
    """A summary line for each case (modules, time, which heavy ones and by whom), then the tables."""
    profiles = profile(cases, env, cwd, python)
    lines = [f"Import profile: `python -X importtime`, cache hits, medians of {RUNS} interleaved runs "
             f"(watched: {', '.join(WATCH)}).", ""]
    lines += [f"- {p.summary()}" for p in profiles] + [""]
    for p in profiles:
        if p.case.table:
            lines += p.table()
    return lines

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


def profile(env: Mapping[str, str], cwd: Path, python: Path) -> tuple[dict[str, tuple[int, int, str]], int]:
    """Median (self, cumulative, parent) per module over RUNS runs, and the median total."""
    runs: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    totals = []
    for _ in range(RUNS):
        done = subprocess.run([str(python), "-X", "importtime", "-m", "assumer", "env", "r"], cwd=cwd,
                              env=dict(env), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode:
            raise SystemExit(f"importtime run failed ({done.returncode}): {done.stderr[-2000:]}")
        entries = parse(done.stderr)
        totals.append(sum(c for _, _, c, p in entries if not p))
        for name, own, cumulative, parent in entries:
            runs[name].append((own, cumulative, parent))
    merged = {name: (int(statistics.median(o for o, _, _ in v)), int(statistics.median(c for _, c, _ in v)), v[0][2])
              for name, v in runs.items()}
    return merged, int(statistics.median(totals))


def section(env: Mapping[str, str], cwd: Path, python: Path) -> list[str]:
    """The report's import section: the top modules by cumulative time, and which heavy ones load."""
    merged, total = profile(env, cwd, python)
    lines = [f"`python -X importtime -m assumer env r` on a cache hit (median of {RUNS} runs): "
             f"{len(merged)} modules, {total / 1000:.0f} ms of imports in all.", "",
             "| module (imported by) | cumulative | self |", "| --- | ---: | ---: |"]
    ranked = sorted(merged.items(), key=lambda item: -item[1][1])[:TOP]
    for name, (own, cumulative, parent) in ranked:
        by = f" ({parent})" if parent else ""
        lines.append(f"| `{name}`{by} | {cumulative / 1000:.1f} ms | {own / 1000:.1f} ms |")
    present = [w for w in WATCH if w in merged]
    absent = [w for w in WATCH if w not in merged]
    lines += ["", f"Loaded on this cache hit: {', '.join(present) or 'none of the watched modules'}. "
                  f"Not loaded: {', '.join(absent) or 'none'}."]
    return lines

"""Whole-process timing for the benchmarks: wall time and peak RSS of a child, and the statistics.

Peak RSS comes from GNU time (``/usr/bin/time -f %M``), which forks the measured
command itself. Reading ``ru_maxrss`` from our own ``os.wait4`` would not do: Linux
keeps, across ``exec``, the high-water mark of the memory the child was forked (or
vforked) from, so every row would show at least the benchmark driver's own RSS.
GNU time is a small C program: what it passes on is about 1 MiB. The figure covers
the command and every descendant it waited for (the ``aws`` and ``jq`` of a script).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

GNU_TIME = "/usr/bin/time"
TIMEOUT = 120  # seconds for any one measured process: a hung child fails the run, never stalls it


class MeasureError(RuntimeError):
    """A measured command failed: its numbers would mean nothing."""


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds, from just before the spawn to the reaping of the child
    rss_kib: int  # peak resident set size of the command (and its waited-for children)
    stdout: str


@dataclass
class Series:
    """The samples of one row."""

    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    @property
    def walls(self) -> list[float]:
        return [s.wall for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def min(self) -> float:
        return min(self.walls)

    @property
    def max(self) -> float:
        return max(self.walls)

    @property
    def peak_rss_kib(self) -> int:
        return max(s.rss_kib for s in self.samples)


class Spawner:
    """Starts commands under GNU time in a fixed working directory and environment."""

    def __init__(self, scratch: Path, *, cwd: Path, env: Mapping[str, str]) -> None:
        if not os.access(GNU_TIME, os.X_OK):
            raise MeasureError(f"{GNU_TIME} is missing: install Debian's 'time' package")
        self.scratch = scratch
        self.cwd = cwd
        self.env = dict(env)
        self._serial = 0

    def start(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
              stdin: str | None = None) -> "Running":
        self._serial += 1
        rss_file = self.scratch / f"rss-{self._serial}"
        child_env = {**self.env, **(env or {})}
        started = time.perf_counter()
        process = subprocess.Popen(
            [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv], cwd=self.cwd, env=child_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        return Running(argv, process, started, rss_file, stdin)

    def run(self, argv: Sequence[str], **kwargs: object) -> Sample:
        return self.start(argv, **kwargs).finish()  # type: ignore[arg-type]


@dataclass
class Running:
    argv: Sequence[str]
    process: subprocess.Popen
    started: float
    rss_file: Path
    stdin: str | None

    def finish(self) -> Sample:
        try:
            out, err = self.process.communicate(self.stdin, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise MeasureError(f"timed out after {TIMEOUT}s: {' '.join(self.argv)}") from None
        wall = time.perf_counter() - self.started
        rss_text = self.rss_file.read_text() if self.rss_file.exists() else ""
        self.rss_file.unlink(missing_ok=True)
        if self.process.returncode:
            raise MeasureError(f"exit {self.process.returncode}: {' '.join(self.argv)}\n{err.strip()}")
        # GNU time writes "Command exited with non-zero status" first on failure; the
        # figure is always the last line.
        figures = rss_text.split()
        if not figures or not figures[-1].isdigit():
            raise MeasureError(f"GNU time gave no peak RSS for {' '.join(self.argv)}: {err.strip()[-500:]}")
        return Sample(wall, int(figures[-1]), out)


def machine_header() -> str:
    """nproc, CPU model, Python version, kernel and the date, for the table's heading."""
    import platform

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (f"{stamp}; {os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}; load average {load:.1f} at the start")

"""A cache hit never imports boto3, botocore or keyring: checked in a real process."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.integration

PROBE = """
import atexit, sys
def report():
    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'keyring'})
    sys.stderr.write('HEAVY:' + ','.join(heavy) + '\\n')
atexit.register(report)
sys.argv = ['assumer', *sys.argv[1:]]
from assumer.cli import main
main()
"""


def heavy_modules(aws_home, *args: str) -> list[str]:
    result = aws_home.command([sys.executable, "-c", PROBE, *args])
    assert result.returncode == 0, result.stderr
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY:")][-1]
    return [m for m in line[len("HEAVY:"):].split(",") if m]


@pytest.mark.parametrize("command", [["env", "r"], ["credential-process", "r"]])
def test_cache_hit_imports_no_sdk(aws_home, command: list[str]) -> None:
    cold = heavy_modules(aws_home, *command)
    assert "boto3" in cold or "botocore" in cold  # the probe can see an import when there is one
    assert heavy_modules(aws_home, *command) == []
    assert aws_home.proxy.count("AssumeRole") == 1

"""A cache hit never imports boto3, botocore or keyring (nor click, for the fast-path forms): a real process."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.integration

PROBE = """
import atexit, sys
def report():
    heavy = sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore', 'keyring', 'click'})
    sys.stderr.write('HEAVY:' + ','.join(heavy) + '\\n')
atexit.register(report)
sys.argv = ['assumer', *sys.argv[1:]]
from assumer.cli.entry import main
main()
"""


def heavy_modules(aws_home, *args: str) -> list[str]:
    result = aws_home.command([sys.executable, "-c", PROBE, *args])
    assert result.returncode == 0, result.stderr
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("HEAVY:")][-1]
    return [m for m in line[len("HEAVY:"):].split(",") if m]


@pytest.mark.parametrize("command", [["env", "r"], ["env", "r", "--shell", "fish"], ["credential-process", "r"]])
def test_cache_hit_imports_no_sdk_and_no_click(aws_home, command: list[str]) -> None:
    cold = heavy_modules(aws_home, *command)
    assert {"boto3", "botocore", "click"} <= set(cold)  # the probe sees an import when there is one
    assert heavy_modules(aws_home, *command) == []
    assert aws_home.proxy.count("AssumeRole") == 1


@pytest.mark.parametrize("option", ["--region=ap-northeast-1", "--no-cache", "--refresh"])
def test_other_forms_take_the_full_path_without_the_sdk_on_a_hit(aws_home, option: str) -> None:
    heavy_modules(aws_home, "env", "r")
    heavy = heavy_modules(aws_home, "env", "r", option)
    if option == "--region=ap-northeast-1":  # same session, served by the cache through click
        assert heavy == ["click"]
        assert aws_home.proxy.count("AssumeRole") == 1
    else:  # a new AssumeRole: the SDK is needed
        assert "botocore" in heavy
        assert aws_home.proxy.count("AssumeRole") == 2


def test_fast_path_output_equals_the_full_path(aws_home) -> None:
    aws_home.run(["env", "r"])
    fast = aws_home.run(["env", "r", "--shell", "zsh"])
    full = aws_home.run(["--debug", "env", "r", "--shell", "zsh"])  # --debug: never the fast path
    assert fast.returncode == full.returncode == 0
    assert fast.stdout == full.stdout and fast.stderr == ""

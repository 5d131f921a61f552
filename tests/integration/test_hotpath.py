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



# -- the import budget of a cache hit ----------------------------------------------------
#
# Every module a hit imports costs start-up time on every prompt refresh, SDK credential
# refresh and engine pull. BUDGET holds the modules a cache hit may import beyond those the
# interpreter had loaded when it started (site, encodings, os, ...): the standard library's
# and jeepney's by top-level name, assumer's own by full name. A module that is not listed
# fails the test; so does a listed one that a hit no longer imports (the list stays the
# exact set, so that a saving is kept).

_HIT_COMMON = frozenset({
    # the standard library (what jeepney needs among them; json's C accelerator without json)
    "__future__", "_collections", "_datetime", "_functools", "_json", "_operator", "_sha256", "_socket",
    "_sre", "_string", "_struct", "_typing", "array", "binascii", "collections", "contextlib",
    "copyreg", "enum", "errno", "functools", "itertools",
    "keyword", "math", "operator", "re", "reprlib", "select", "selectors", "socket",
    "pwd",  # the user name of the cache key: these tests' environment sets no USER or LOGNAME
    "string", "struct", "types", "typing", "warnings",
    # the Secret Service client
    "jeepney",
    # assumer's own: the chain and its key, the credentials, the lean reader
    "assumer", "assumer.core", "assumer.core.cachekey", "assumer.core.inifile", "assumer.core.profiles",
    "assumer.core.target", "assumer.credentials", "assumer.digest", "assumer.errors", "assumer.fastjson",
    "assumer.records", "assumer.signals", "assumer.store", "assumer.store.aes", "assumer.store.backends",
    "assumer.store.dh",
    "assumer.store.secretservice",
})
_FAST_PATH = frozenset({"assumer.cli", "assumer.cli.entry", "assumer.cli.fastpath", "assumer.cli.render"})
BUDGET: dict[str, frozenset[str]] = {
    "env": _HIT_COMMON | _FAST_PATH,
    "credential-process": _HIT_COMMON | _FAST_PATH,
    "helper get": _HIT_COMMON | {
        "assumer.ecr", "assumer.ecr.helper", "assumer.ecr.registry", "assumer.ecr.routes", "assumer.ecr.tokens",
        "assumer.paths",  # registries.json's path, as a str (no pathlib)
        "assumer.logs",  # the token is registered for redaction as soon as it is read
    },
}

BUDGET_PROBE = """
import sys
started = set(sys.modules)
import atexit
def report():
    new = [m for m in sys.modules if m not in started and m != 'atexit']
    names = {m if m.split('.')[0] == 'assumer' else m.split('.')[0] for m in new}
    names -= {m.split('.')[0] for m in started}
    sys.stderr.write('IMPORTED:' + ','.join(sorted(names)) + '\\n')
atexit.register(report)
if sys.argv[1] == 'helper':
    sys.argv = ['docker-credential-assumer', 'get']
    from assumer.ecr.helper import console_main
    console_main()
else:
    sys.argv = ['assumer', *sys.argv[1:]]
    from assumer.cli.entry import main
    main()
"""

DEFAULT_ECR_HOST = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"  # r's account and region


def imported(aws_home, *args: str, stdin: str | None = None) -> set[str]:
    result = aws_home.command([sys.executable, "-c", BUDGET_PROBE, *args], input=stdin)
    assert result.returncode == 0, result.stderr
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("IMPORTED:")][-1]
    return {m for m in line[len("IMPORTED:"):].split(",") if m}


def budget_message(command: str, extra: set[str], gone: set[str]) -> str:
    return (
        f"a cache hit of {command} does not import what its budget in tests/integration/test_hotpath.py says.\n"
        f"  imported, not in BUDGET[{command!r}]: {sorted(extra)}\n"
        f"  in BUDGET[{command!r}], no longer imported: {sorted(gone)}\n"
        "Each module a hit imports costs every prompt refresh, SDK credential refresh and engine pull. "
        "To add one, first measure what it costs a hit (`python -X importtime` of the command, and the "
        "interleaved medians of `bash tests/bench/run.sh` with and without it) and give the figure in the "
        "commit; then add it to BUDGET. Remove from BUDGET what a hit no longer imports."
    )


@pytest.mark.parametrize("command", [["env", "r"], ["credential-process", "r"]], ids=lambda c: c[0])
def test_cache_hit_imports_only_its_budget(aws_home, command: list[str]) -> None:
    imported(aws_home, *command)  # the miss: it assumes the role and caches the session
    hit = imported(aws_home, *command)
    assert aws_home.proxy.count("AssumeRole") == 1  # the second run was a hit
    budget = BUDGET[command[0]]
    assert hit == budget, budget_message(command[0], hit - budget, budget - hit)


def test_helper_get_cache_hit_imports_only_its_budget(aws_home) -> None:
    aws_home.proxy.set_ecr_expiry(12 * 3600)  # moto's token expired in 2015: stale on arrival
    assert aws_home.run(["ecr-helper", "configure", "r"]).returncode == 0
    imported(aws_home, "helper", stdin=DEFAULT_ECR_HOST)  # the miss: a token is fetched and cached
    hit = imported(aws_home, "helper", stdin=DEFAULT_ECR_HOST)
    assert aws_home.proxy.count("GetAuthorizationToken") == 1  # the second run was a hit
    budget = BUDGET["helper get"]
    assert hit == budget, budget_message("helper get", hit - budget, budget - hit)

"""The benchmark's own parts that can go wrong silently: the import-time parser, the
process timer's RSS figure, the generated AWS config. Fast; no services."""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path

import pytest

from tests.bench.importtime import Profile, Case, parse
from tests.bench.timing import GNU_TIME, MeasureError, Spawner
from tests.bench.world import PROFILES_LARGE, aws_config

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _io
import time:        50 |        150 | io
import time:        10 |         10 |       botocore.exceptions
import time:        20 |         30 |     botocore
import time:         5 |         35 |   boto3.session
import time:         7 |         42 | boto3
"""


def test_parse_finds_each_modules_parent() -> None:
    entries = {name: (own, cumulative, parent) for name, own, cumulative, parent in parse(IMPORTTIME)}
    assert entries["_io"] == (100, 100, "io")
    assert entries["io"] == (50, 150, "")
    assert entries["botocore.exceptions"][2] == "botocore"
    assert entries["botocore"][2] == "boto3.session"
    assert entries["boto3"] == (7, 42, "")


def test_profile_names_the_importer_outside_the_package() -> None:
    profile = Profile(Case("x", []))
    profile.add(IMPORTTIME)
    merged = profile.merged()
    assert Profile.importer("botocore.exceptions", merged) == "`boto3.session`"
    assert Profile.importer("boto3", merged) == "run time"
    assert profile.totals == [150 + 42]


@pytest.fixture
def gnu_time() -> None:
    """tests/run.sh installs GNU time (Debian ``time``); without it this is a broken set-up, not a skip."""
    assert os.access(GNU_TIME, os.X_OK), f"{GNU_TIME} is missing: bash tests/run.sh installs it"


@pytest.mark.usefixtures("gnu_time")
def test_peak_rss_is_the_childs_own(tmp_path: Path) -> None:
    spawner = Spawner(tmp_path, cwd=tmp_path, env=os.environ)
    small = spawner.run([sys.executable, "-c", "print('hi')"])
    big = spawner.run([sys.executable, "-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"])
    assert small.stdout == "hi\n" and small.wall > 0
    assert big.rss_kib - small.rss_kib > 150 * 1024
    assert small.rss_kib < 100 * 1024
    assert list(tmp_path.iterdir()) == []  # the RSS files are removed


@pytest.mark.usefixtures("gnu_time")
def test_a_failed_command_is_an_error(tmp_path: Path) -> None:
    spawner = Spawner(tmp_path, cwd=tmp_path, env=os.environ)
    with pytest.raises(MeasureError, match="exit 3"):
        spawner.run([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_large_config_has_the_profiles_and_r_last() -> None:
    parser = configparser.ConfigParser()
    text = aws_config("arn:aws:iam::123456789012:role/R", extra=PROFILES_LARGE - 2)
    parser.read_string(text)
    assert len(parser.sections()) == PROFILES_LARGE
    assert parser.sections()[-1] == "profile r"
    assert parser["profile r"]["source_profile"] == "u"


@pytest.mark.usefixtures("gnu_time")
def test_shell_startup_forms_each_load_assume(tmp_path: Path) -> None:
    """The start-up section times what it says: each form with the integration defines `assume`."""
    from tests.bench.shell_startup import check, forms, section

    assumer = Path(sys.prefix) / "bin" / "assumer"
    (tmp_path / "home").mkdir()
    env = {"HOME": str(tmp_path / "home"), "PATH": f"{assumer.parent}:/usr/bin:/bin"}
    spawner = Spawner(tmp_path, cwd=tmp_path / "home", env=env)
    table = forms(tmp_path, assumer, env)
    check(spawner, table)  # raises SystemExit when a form has no assume
    for form in table:
        form.walls.append(spawner.run(form.argv, env=form.env).wall)
    assert len(section(table, 1)) == 4 + 3


def test_the_limit_imports_only_the_standard_library_and_jeepney() -> None:
    """jeepney_read.py is the floor the cache hits are compared with: no assumer, keyring or
    cryptography at module level (its one borrowed piece, assumer's AES, is imported where used)."""
    import ast

    tree = ast.parse((Path(__file__).parent / "jeepney_read.py").read_text())
    top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert top == {"os", "sys", "jeepney"}

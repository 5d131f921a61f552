"""Usage errors are click's (exit 2): parsed in this process with CliRunner, nothing written.

click keeps stdout and stderr apart, so each is asserted on its own. The same path in
a real process (the console script, through the fast path's hand-over and the
exit-code mapping of ``assumer.cli.app.run``) is
tests/integration/test_badinput.py::test_unknown_shell_is_a_click_usage_error.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from assumer.cli.app import cli
from assumer.store import backends
from tests.tools.awsconfig import credentials, standard_config


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    """A throw-away HOME with the suite's ~/.aws, its own XDG directories, STS at a closed port."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(standard_config())
    (home / ".aws" / "credentials").write_text(
        credentials("u", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    (tmp_path / "run").mkdir(mode=0o700)
    return {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # discard port: nothing listens
        "AWS_EC2_METADATA_DISABLED": "true",
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }


@pytest.fixture
def keyring_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every write or delete that would reach the keyring, recorded instead."""
    writes: list[tuple[str, str, str]] = []
    monkeypatch.setattr(backends.KeyringStore, "set",
                        lambda self, username, secret: writes.append(("set", self.service, username)))
    monkeypatch.setattr(backends.KeyringStore, "delete",
                        lambda self, username: writes.append(("delete", self.service, username)) or True)
    return writes


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root``, by content hash."""
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.mark.parametrize("args", [["env", "r", "--duration", "soon"], ["env"], ["exec"], ["frobnicate"],
                                  ["env", "--unset", "r"], ["clear"]])
def test_usage_errors_exit_2_without_traceback(home_env: dict[str, str], keyring_writes: list, tmp_path: Path,
                                               args: list[str]) -> None:
    before = snapshot(tmp_path)
    result = CliRunner().invoke(cli, args, env=home_env, prog_name="assumer")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # click's own exit, not an exception escaping
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "Error:" in result.stderr
    assert snapshot(tmp_path) == before
    assert keyring_writes == []

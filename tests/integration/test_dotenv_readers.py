"""``--shell dotenv`` read back by its real readers: python-dotenv, podman ``--env-file`` and ``set -a; . .env``.

No quoting round-trips through all of them (podman keeps quotes literally, python-dotenv
strips them and expands ``${...}``, bash runs ``$(...)`` and backticks), so assumer writes
values bare and refuses any other (issue 11, section 4). The oracle is ``--shell json``
of the same cached session: every reader must see exactly those values, or assumer must
have refused. The released version quoted a hostile profile name, which podman read
with its quotes, python-dotenv expanded and bash ran.

podman cannot start a container in every sandbox (rlimits, cgroups), so its reading is
taken from the container it creates: ``podman create --env-file`` parses the file and
``podman inspect`` shows the environment the process would get.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import dotenv
import pytest

from tests.tools.awshome import AwsHome

# Profile names (ASSUMER_PROFILE is the one value a user chooses) that botocore's parser accepts too.
HOSTILE = ["r$HOME", "r${HOME}", "r`touch${IFS}pwned`", "r$(touch${IFS}pwned)", "r#c", "r~", "r*", "r!x", "r\u00e9"]


def podman_reading(env_file: Path, work: Path) -> dict[str, str]:
    """The environment podman gives a container created with ``--env-file env_file`` (storage removed after)."""
    short = Path(tempfile.mkdtemp(prefix="apenv-", dir="/tmp"))  # podman wants a short runroot
    rootfs = work / "rootfs"
    rootfs.mkdir(exist_ok=True)
    podman = ["podman", "--root", str(work / "storage"), "--runroot", str(short / "run"), "--storage-driver", "vfs"]
    try:
        created = subprocess.run([*podman, "create", "--env-file", str(env_file), "--rootfs", str(rootfs), "/x"],
                                 capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert created.returncode == 0, created.stderr
        shown = subprocess.run([*podman, "inspect", "--format", "{{json .Config.Env}}", created.stdout.strip()],
                               capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL)
        subprocess.run([*podman, "rm", "-f", created.stdout.strip()], capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
        return dict(line.split("=", 1) for line in json.loads(shown.stdout))
    finally:  # the container's config holds the secrets
        shutil.rmtree(work / "storage", ignore_errors=True)
        shutil.rmtree(short, ignore_errors=True)


def bash_reading(aws_home: AwsHome, env_file: Path) -> dict[str, str]:
    """What ``set -a; . .env`` exports, in a bash that starts from an empty environment."""
    script = f'set -a; . {env_file}; set +a; env -0'
    result = subprocess.run(["env", "-i", "HOME=" + str(aws_home.home), "bash", "--norc", "--noprofile", "-c", script],
                            capture_output=True, cwd=aws_home.home, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    return dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)


def readings(aws_home: AwsHome, text: str, work: Path) -> dict[str, dict[str, str]]:
    env_file = aws_home.home / ".env"
    env_file.write_text(text)
    try:
        return {
            "python-dotenv": {k: v or "" for k, v in dotenv.dotenv_values(env_file).items()},
            "podman --env-file": podman_reading(env_file, work),
            "set -a; . .env": bash_reading(aws_home, env_file),
        }
    finally:
        env_file.unlink()


def check_readers_agree(aws_home: AwsHome, profile: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``env PROFILE --shell dotenv``: refused in one line, or read exactly as ``--shell json`` by every reader."""
    expected = json.loads(aws_home.run(["env", profile, "--shell", "json"]).stdout)
    result = aws_home.run(["env", profile, "--shell", "dotenv"])
    if result.returncode != 0:
        return result
    for reader, seen in readings(aws_home, result.stdout, tmp_path).items():
        assert {name: seen.get(name) for name in expected} == expected, f"{reader} misreads {profile!r}"
    assert not (aws_home.home / "pwned").exists()
    return result


def test_a_session_is_read_exactly_by_every_reader(aws_home: AwsHome, tmp_path: Path) -> None:
    result = check_readers_agree(aws_home, "r", tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"' not in result.stdout and "'" not in result.stdout


@pytest.mark.parametrize("profile", HOSTILE)
def test_a_value_no_reader_agrees_on_is_refused(aws_home: AwsHome, tmp_path: Path, profile: str) -> None:
    aws_home.add_role_profile(profile)
    result = check_readers_agree(aws_home, profile, tmp_path)
    assert result.returncode == 3, f"every reader agreed on {profile!r}, which has a character outside the set"
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assumer: error: ") and "ASSUMER_PROFILE" in lines[0], lines
    assert "--shell json" in lines[0]

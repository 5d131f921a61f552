"""A user's HOME for one integration test, and a way to run ``assumer`` and shells in it.

The ``aws_home`` fixture (tests/integration/conftest.py) makes one with
``AwsHome.create``: the README's ~/.aws (tests/tools/awsconfig.py) with U's real keys,
the AWS endpoint at the recording proxy, and XDG directories of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.tools import awsconfig
from tests.tools.moto_server import REGION, Keys, World
from tests.tools.paths import VENV_BIN
from tests.tools.recording_proxy import RecordingProxy


def clean_environ() -> dict[str, str]:
    """This process's environment without anything AWS or assumer would read."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "ASSUMER_")) and not k.startswith("XDG_")}


@dataclass
class AwsHome:
    """A user's HOME for one test, and a way to run ``assumer`` and shells in it."""

    home: Path
    env: dict[str, str]
    world: World
    proxy: RecordingProxy
    config_file: Path = field(init=False)
    credentials_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.config_file = self.home / ".aws" / "config"
        self.credentials_file = self.home / ".aws" / "credentials"

    @classmethod
    def create(cls, home: Path, runtime: Path, world: World, proxy: RecordingProxy) -> AwsHome:
        """the README's ~/.aws under ``home`` (U's keys in the credentials file), the endpoint at ``proxy``."""
        (home / ".aws").mkdir(parents=True)
        runtime.mkdir(mode=0o700)
        env = clean_environ()
        env.update(
            HOME=str(home),
            AWS_CONFIG_FILE=str(home / ".aws" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            AWS_ENDPOINT_URL=proxy.url,
            # Never let botocore look for instance metadata: that is a non-loopback address.
            AWS_EC2_METADATA_DISABLED="true",
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_STATE_HOME=str(home / ".local" / "state"),
            XDG_CACHE_HOME=str(home / ".cache"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_RUNTIME_DIR=str(runtime),
            PATH=os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", os.defpath)]),
            SHELL="/bin/bash",
        )
        result = cls(home=home, env=env, world=world, proxy=proxy)
        result.write_config(awsconfig.standard_config(world.role_r, world.role_r2))
        result.credentials_file.write_text(awsconfig.credentials("u", world.u.access_key_id,
                                                                 world.u.secret_access_key))
        return result

    @property
    def assumer(self) -> str:
        """The console script installed in the venv."""
        found = shutil.which("assumer", path=self.env["PATH"])
        return found or str(VENV_BIN / "assumer")

    def write_config(self, text: str) -> None:
        """Replace ~/.aws/config."""
        self.config_file.write_text(text)

    def add_config(self, text: str) -> None:
        """Append profiles to ~/.aws/config."""
        with self.config_file.open("a") as out:
            out.write("\n" + text)

    def add_role_profile(self, name: str, *lines: str, role: str | None = None, source: str | None = "u",
                         region: str | None = REGION) -> None:
        """Append ``[profile NAME]`` assuming ``role`` (R by default) from ``source``, then ``lines``."""
        self.add_config(awsconfig.role_profile(name, *lines, role=role or self.world.role_r, source=source,
                                               region=region))

    def add_credentials(self, text: str) -> None:
        with self.credentials_file.open("a") as out:
            out.write("\n" + text)

    def add_keys(self, profile: str, keys: Keys) -> None:
        """Append ``[PROFILE]`` with ``keys`` to ~/.aws/credentials."""
        self.add_credentials(awsconfig.credentials(profile, keys.access_key_id, keys.secret_access_key))

    def process_env(self, env_extra: dict[str, str | None] | None = None) -> dict[str, str]:
        """``env`` with ``env_extra`` applied; a None value removes the variable."""
        env = dict(self.env)
        for name, value in (env_extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def run(self, args: Sequence[str], input: str | None = None,
            env_extra: dict[str, str | None] | None = None, timeout: float = 60,
            **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``assumer ARGS`` as a user would, without a terminal (see ``command``)."""
        return self.command([self.assumer, *args], input=input, env_extra=env_extra,
                            timeout=timeout, **kwargs)

    def command(self, argv: Sequence[str], input: str | None = None,
                env_extra: dict[str, str | None] | None = None, timeout: float = 60,
                **kwargs) -> subprocess.CompletedProcess[str]:
        """Run any command in this HOME; text output, stdout and stderr apart.

        A new session means no controlling terminal, so /dev/tty cannot be opened and an
        MFA prompt can never wait for a person at the terminal that runs the suite.
        """
        kwargs.setdefault("start_new_session", True)
        return subprocess.run(list(argv), input=input, env=self.process_env(env_extra),
                              cwd=self.home, capture_output=True, text=True, timeout=timeout,
                              stdin=None if input is not None else subprocess.DEVNULL, **kwargs)

    def shell(self, shell: str, script: str, **kwargs) -> subprocess.CompletedProcess[str]:
        """Run ``script`` with ``shell -c`` (bash, zsh, fish, sh), $SHELL set to that shell."""
        path = shutil.which(shell) or shell
        env_extra = {"SHELL": path, **kwargs.pop("env_extra", {})}
        return self.command([path, "-c", script], env_extra=env_extra, **kwargs)

"""The benchmark's world: moto + the recording proxy on loopback, the README's ~/.aws for u and r,
a 2,000-profile config, and the competitors (awsume, the manual recipe, a boto3 script).

Everything is written under a scratch directory that tests/bench/run.sh removes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.tools.moto_server import ACCOUNT, REGION, MotoServer, World, enforce_iam, populate
from tests.tools.processes import terminate
from tests.tools.recording_proxy import ProxyClient

ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
PROFILES_LARGE = 2000

# The manual recipe of the README ('Why: the recipe it replaces'), credential part, as people
# run it: the session goes to a file, three jq calls read it back. It ends by printing what `assumer env r` prints, so
# both do the same job (assume R from U's keys, hand the variables to the shell).
RECIPE = """#!/bin/bash
set -euo pipefail
aws sts assume-role --profile u --role-arn "$1" --role-session-name recipe > creds.sensitive
export AWS_ACCESS_KEY_ID=`jq -r .Credentials.AccessKeyId creds.sensitive`
export AWS_SECRET_ACCESS_KEY=`jq -r .Credentials.SecretAccessKey creds.sensitive`
export AWS_SESSION_TOKEN=`jq -r .Credentials.SessionToken creds.sensitive`
rm -f creds.sensitive
printf 'export %s=%s\\n' AWS_ACCESS_KEY_ID "$AWS_ACCESS_KEY_ID" \\
    AWS_SECRET_ACCESS_KEY "$AWS_SECRET_ACCESS_KEY" AWS_SESSION_TOKEN "$AWS_SESSION_TOKEN"
"""

# The least a Python refresh can do: one AssumeRole with boto3, one keyring write, print.
BOTO3_REFRESH = """import json
import sys

import boto3
import keyring

creds = boto3.Session(profile_name="u").client("sts").assume_role(
    RoleArn=sys.argv[1], RoleSessionName="bench")["Credentials"]
keyring.set_password("assumer-bench", "r", json.dumps(
    {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    | {"Expiration": creds["Expiration"].isoformat()}))
for name, key in (("AWS_ACCESS_KEY_ID", "AccessKeyId"), ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
                  ("AWS_SESSION_TOKEN", "SessionToken")):
    print(f"export {name}={creds[key]}")
"""


def aws_config(role_r: str, *, extra: int = 0) -> str:
    """The README's config for u and r, after ``extra`` other role profiles (r comes last)."""
    parts = ["[profile u]\nregion = ap-northeast-1\n"]
    for i in range(extra):
        lines = [f"[profile team-{i:04d}]", f"role_arn = arn:aws:iam::{100000000000 + i}:role/Deploy",
                 "source_profile = u", f"region = {('eu-west-1', 'us-east-1', 'ap-northeast-1')[i % 3]}"]
        if i % 4 == 0:
            lines.append("duration_seconds = 7200")
        if i % 10 == 0:
            lines.append(f"mfa_serial = arn:aws:iam::{ACCOUNT}:mfa/U")
        parts.append("\n".join(lines) + "\n")
    parts.append(f"[profile r]\nrole_arn = {role_r}\nsource_profile = u\nregion = ap-northeast-1\n")
    return "\n".join(parts)


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)


@dataclass
class Services:
    """moto (populated, IAM enforced) and the recording proxy in front of it."""

    moto: MotoServer
    proxy_process: subprocess.Popen
    proxy: ProxyClient
    proxy_url: str
    world: World

    @classmethod
    def start(cls, scratch: Path) -> "Services":
        moto = MotoServer(log=scratch / "moto.log").start()
        proxy_process = None
        try:
            world = populate(moto.url)
            enforce_iam(moto.url)
            log = open(scratch / "proxy.log", "ab")
            proxy_process = subprocess.Popen(
                [sys.executable, "-m", "tests.tools.recording_proxy", "--upstream", moto.url],
                stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True,
                cwd=Path(__file__).resolve().parents[2])
            log.close()
            url = proxy_process.stdout.readline().strip()  # type: ignore[union-attr]
            if not url.startswith("http://127.0.0.1:"):
                raise RuntimeError(f"the recording proxy did not start; see {scratch / 'proxy.log'}")
            return cls(moto, proxy_process, ProxyClient(url), url, world)
        except BaseException:
            terminate(proxy_process)
            moto.stop()
            raise

    def stop(self) -> None:
        terminate(self.proxy_process)
        self.moto.stop()

    def counts(self) -> tuple[int, int]:
        """(AssumeRole, GetAuthorizationToken) requests that reached moto so far."""
        return self.proxy.count("AssumeRole"), self.proxy.count("GetAuthorizationToken")


@dataclass(frozen=True)
class Files:
    home: Path
    config_large: Path
    recipe: Path
    boto3_refresh: Path


def write_files(scratch: Path, home: Path, world: World) -> Files:
    """~/.aws for u and r (U's keys in the credentials file), the large config, the scripts."""
    aws = home / ".aws"
    aws.mkdir(mode=0o700)
    write_private(aws / "config", aws_config(world.role_r))
    write_private(aws / "credentials", f"[u]\naws_access_key_id = {world.u.access_key_id}\n"
                                       f"aws_secret_access_key = {world.u.secret_access_key}\n")
    files = Files(home, scratch / "config-2000", scratch / "recipe.sh", scratch / "boto3_refresh.py")
    write_private(files.config_large, aws_config(world.role_r, extra=PROFILES_LARGE - 2))
    write_private(files.recipe, RECIPE, 0o700)
    write_private(files.boto3_refresh, BOTO3_REFRESH)
    return files

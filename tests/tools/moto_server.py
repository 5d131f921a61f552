"""A real moto server on loopback, populated with the README's user U and role R.

Used by the pytest fixtures (``MotoServer`` + ``populate`` + ``enforce_iam``) and, as
``python -m tests.tools.moto_server --port N --world FILE``, by tests/try-it.sh and the
benchmark, which need it as a separate process.

What exists after ``populate`` (account 123456789012, moto's default):

- user ``U``: two access keys; its only permission is ``sts:AssumeRole`` on ``R``
  (``sts:GetCallerIdentity`` is always allowed).
- role ``R``: trusts ``U``; the ECR push policy 'assumer policy' prints, plus ``sts:AssumeRole`` on
  ``R2`` so that profile r2 can chain from r.
- role ``R2``: trusts ``*``, because moto compares a trust principal with the caller's ARN
  as a plain string, so a role ARN never matches that role's assumed-role sessions.
  What keeps U from assuming R2 directly is U's own policy.
- user ``NOPE``: keys, no permission at all.
- user ``WIDE``: may call ``sts:AssumeRole`` on any role, so denials it meets come from
  trust policies alone.
- role ``UNTRUSTING``: trusts a user that does not exist.
- role ``REXT``: trusts ``WIDE`` only with ``sts:ExternalId`` = ``xyz`` (moto checks a
  wrong id, not a missing one).
- user ``ADMIN``: ``*`` on ``*``, for test setup after enforcement is on.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.tools.net import free_port, wait_http
from tests.tools.processes import terminate

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"

ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings",
]


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal: str, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return policy(statement)


# Resource "*" for the push actions too: moto authorises every ECR call against the
# resource "*", so a repository-scoped statement would never match there.
ECR_PUSH_POLICY = policy(allow(["ecr:GetAuthorizationToken", *ECR_PUSH_ACTIONS]))


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class World:
    """Everything a test needs to know about the populated moto account."""

    endpoint: str
    account: str
    u: Keys
    u_second: Keys
    nope: Keys
    wide: Keys
    admin: Keys
    role_r: str = role_arn("R")
    role_r2: str = role_arn("R2")
    role_untrusting: str = role_arn("UNTRUSTING")
    role_rext: str = role_arn("REXT")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> World:
        data = json.loads(text)
        for name in ("u", "u_second", "nope", "wide", "admin"):
            data[name] = Keys(**data[name])
        return cls(**data)


def _client(service: str, endpoint: str, keys: Keys | None = None):
    import boto3  # only the harness needs boto3; imported late to keep --help fast

    keys = keys or Keys("testing", "testing")  # any key works before enforcement
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=keys.access_key_id,
        aws_secret_access_key=keys.secret_access_key,
    )


def _user(iam, name: str, policy_document: str | None) -> Keys:
    iam.create_user(UserName=name)
    if policy_document:
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=policy_document)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(key["AccessKeyId"], key["SecretAccessKey"])


def _role(iam, name: str, trust_policy: str, **inline: str) -> None:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy)
    for policy_name, document in inline.items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)


def populate(endpoint: str) -> World:
    """Create the users and roles described in the module docstring (enforcement off)."""
    iam = _client("iam", endpoint)
    u = _user(iam, "U", policy(allow("sts:AssumeRole", role_arn("R"))))
    second = iam.create_access_key(UserName="U")["AccessKey"]
    nope = _user(iam, "NOPE", None)
    wide = _user(iam, "WIDE", policy(allow("sts:AssumeRole")))
    admin = _user(iam, "ADMIN", policy(allow("*")))
    _role(iam, "R", trust(user_arn("U")), ecr_push=ECR_PUSH_POLICY,
          chain=policy(allow("sts:AssumeRole", role_arn("R2"))))
    _role(iam, "R2", trust("*"))
    _role(iam, "UNTRUSTING", trust(user_arn("SOMEONE-ELSE")))
    _role(iam, "REXT", trust(user_arn("WIDE"), {"StringEquals": {"sts:ExternalId": "xyz"}}))
    return World(endpoint=endpoint, account=ACCOUNT, u=u,
                 u_second=Keys(second["AccessKeyId"], second["SecretAccessKey"]),
                 nope=nope, wide=wide, admin=admin)


def enforce_iam(endpoint: str) -> None:
    """Turn moto's IAM policy enforcement on for every request from now on.

    The body must be text/plain: moto reads it as the number of requests still allowed
    without authentication, and a form-encoded body fails.
    """
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def moto_command(port: int) -> list[str]:
    """The venv's ``moto_server`` script, or the module when the script is not beside us."""
    script = Path(sys.executable).with_name("moto_server")
    head = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    return [*head, "-H", "127.0.0.1", "-p", str(port)]


class MotoServer:
    """A ``moto_server`` subprocess on a free loopback port."""

    def __init__(self, port: int | None = None, *, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen | None = None

    def start(self) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with open(self._log or os.devnull, "ab") as output:  # the child keeps its own copy
            self._process = subprocess.Popen(moto_command(self.port), stdout=output, stderr=output,
                                             stdin=subprocess.DEVNULL, env=env)
        wait_http(f"{self.url}/moto-api/", alive=lambda: self._process.poll() is None)
        return self

    def stop(self) -> None:
        terminate(self._process)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run moto in the foreground: populate it, write the World as JSON, serve until signalled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    parser.add_argument("--world", type=Path, required=True,
                        help="file to write the created keys and ARNs to (JSON, mode 0600)")
    parser.add_argument("--log", type=Path, help="moto's own output (default: discarded)")
    args = parser.parse_args(argv)
    server = MotoServer(args.port or None, log=args.log).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        world = populate(server.url)
        enforce_iam(server.url)
        # The world file holds test keys: create it private, never write-then-chmod.
        fd = os.open(args.world, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(world.to_json())
        signal.pause()
    finally:
        server.stop()


if __name__ == "__main__":
    main()

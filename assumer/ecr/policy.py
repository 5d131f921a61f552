"""``assumer policy``: the IAM documents for the README's setup (user U assumes role R to push).

Pure: builds dicts; the command renders them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# The actions a push (and the reads around it) needs, as in AWS's own push examples.
PUSH_ACTIONS = (
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
)
TOKEN_NOTE = "ecr:GetAuthorizationToken supports only Resource \"*\" (it is not tied to a repository)"  # noqa: S105 - a note, not a token
EXAMPLE_ACCOUNT = "123456789012"
DOCUMENTS = ("push", "trust", "user")


def partition(region: str) -> str:
    """The ARN partition of a region ('*' counts as the commercial one)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class Setup:
    """Names in the documents."""

    account: str = EXAMPLE_ACCOUNT
    role: str = "R"
    user: str = "U"
    repositories: tuple[str, ...] = field(default_factory=tuple)
    region: str = "*"
    allow_create_repository: bool = False
    allow_key_rotation: bool = False

    @property
    def part(self) -> str:
        return partition(self.region)

    def role_arn(self) -> str:
        return f"arn:{self.part}:iam::{self.account}:role/{self.role}"

    def user_arn(self) -> str:
        return f"arn:{self.part}:iam::{self.account}:user/{self.user}"

    def repository_arns(self) -> list[str]:
        return [f"arn:{self.part}:ecr:{self.region}:{self.account}:repository/{name}" for name in self.repositories]


def _document(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def push_policy(setup: Setup) -> dict[str, object]:
    """Role R's permissions: the login token on '*', the push actions on the repositories (or '*')."""
    actions = list(PUSH_ACTIONS) + (["ecr:CreateRepository"] if setup.allow_create_repository else [])
    resources = setup.repository_arns() or ["*"]
    return _document(
        {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "Push", "Effect": "Allow", "Action": actions,
         "Resource": resources[0] if len(resources) == 1 else resources},
    )


def trust_policy(setup: Setup) -> dict[str, object]:
    """Role R's trust policy: user U may assume it."""
    return _document({"Effect": "Allow", "Principal": {"AWS": setup.user_arn()}, "Action": "sts:AssumeRole"})


# What `assumer rotate` calls, on the user itself only.
ROTATION_ACTIONS = ("iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey")


def user_policy(setup: Setup) -> dict[str, object]:
    """User U's permission: assume role R; with ``allow_key_rotation``, also rotate its own keys."""
    statements: list[dict[str, object]] = [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": setup.role_arn()}]
    if setup.allow_key_rotation:
        statements.append({"Sid": "RotateOwnKeys", "Effect": "Allow", "Action": list(ROTATION_ACTIONS),
                           "Resource": f"arn:{setup.part}:iam::{setup.account}:user/${{aws:username}}"})
    return _document(*statements)


def document(setup: Setup, name: str) -> dict[str, object]:
    """One of :data:`DOCUMENTS` by name."""
    return {"push": push_policy, "trust": trust_policy, "user": user_policy}[name](setup)


def render_all(setup: Setup) -> str:
    """All three documents, each under a ``#`` comment saying where it goes."""
    scope = (f"the repositories {', '.join(setup.repositories)}" if setup.repositories
             else "every repository (pass --repository NAME to narrow it)")
    sections = [
        (f"Role {setup.role}: permissions policy (push to {scope}).\n# Note: {TOKEN_NOTE}.\n"
         f"#   aws iam put-role-policy --role-name {setup.role} --policy-name ecr-push "
         f"--policy-document \"$(assumer policy --document push ...)\"", push_policy(setup)),
        (f"Role {setup.role}: trust policy (user {setup.user} may assume it).\n"
         f"#   aws iam update-assume-role-policy --role-name {setup.role} "
         f"--policy-document \"$(assumer policy --document trust ...)\"", trust_policy(setup)),
        (f"User {setup.user}: its only permission (assume role {setup.role})"
         + (", and rotating its own access keys (assumer rotate)" if setup.allow_key_rotation else "") + ".\n"
         f"#   aws iam put-user-policy --user-name {setup.user} --policy-name assume-{setup.role} "
         f"--policy-document \"$(assumer policy --document user ...)\"", user_policy(setup)),
    ]
    return "\n".join(f"# {title}\n{json.dumps(body, indent=2)}\n" for title, body in sections)

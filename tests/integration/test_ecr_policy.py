"""`assumer policy` output, put on a new role in moto (which enforces IAM), is enough to
log in, create a repository and push; the same role without it is refused.
"""

from __future__ import annotations

import json

import pytest

from tests.tools.awshome import AwsHome
from tests.tools.ecr import ALLOW, DIGEST, EcrServices, admin_client


def printed(home: AwsHome, *args: str) -> str:
    result = home.run(["policy", "--account", home.world.account, *args])
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # plain JSON, ready for --policy-document
    return result.stdout


def make_role(home: AwsHome, name: str, *policy_args: str) -> None:
    """Role NAME trusting user WIDE, with `assumer policy`'s push document (if any); profile NAME uses it."""
    iam = admin_client(home.world, "iam")
    trust = printed(home, "--document", "trust", "--user", "WIDE", "--role", name)
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    if policy_args:
        push = printed(home, "--document", "push", "--role", name, *policy_args)
        iam.put_role_policy(RoleName=name, PolicyName="ecr-push", PolicyDocument=push)
    home.add_keys("wide", home.world.wide)
    home.add_role_profile(name.lower(), role=f"arn:aws:iam::{home.world.account}:role/{name}", source="wide")


def test_printed_policy_allows_create_repository_and_push(ecr_home: AwsHome, ecr: EcrServices) -> None:
    make_role(ecr_home, "RPOLICY", "--allow-create-repository")
    result = ecr_home.run(["ecr-push", "rpolicy", ecr.image, "--registry", ecr.registry.host, ALLOW,
                           "--repository", "made-by-policy", "--tag", "p1", "--create-repository"])
    assert result.returncode == 0, result.stderr
    assert DIGEST.match(result.stdout), result.stdout
    assert "created repository 'made-by-policy'" in result.stderr
    assert ecr_home.proxy.count("CreateRepository") == 1
    assert ecr.registry.tags("made-by-policy") == ["p1"]


def test_role_without_the_printed_policy_is_refused(ecr_home: AwsHome, ecr: EcrServices) -> None:
    make_role(ecr_home, "RBARE")
    result = ecr_home.run(["ecr-login", "rbare", "--print-password"])
    assert result.returncode == 4, result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("document", ["push", "trust", "user"])
def test_each_document_is_accepted_by_iam(ecr_home: AwsHome, document: str) -> None:
    """moto validates policy documents on put: every printed one passes."""
    iam = admin_client(ecr_home.world, "iam")
    body = printed(ecr_home, "--document", document, "--repository", "app", "--allow-create-repository")
    if document == "trust":
        iam.create_role(RoleName=f"RDOC-{document}", AssumeRolePolicyDocument=body)
    else:
        iam.create_policy(PolicyName=f"assumer-{document}", PolicyDocument=body)

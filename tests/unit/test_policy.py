"""assumer.ecr.policy and `assumer policy`: the IAM documents for U and R."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assumer.cli.app import cli
from assumer.ecr import policy


def test_push_policy_defaults_to_every_repository() -> None:
    document = policy.push_policy(policy.Setup())
    login, push = document["Statement"]
    assert login == {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    assert push["Resource"] == "*"
    assert push["Action"] == list(policy.PUSH_ACTIONS)
    assert "ecr:CreateRepository" not in push["Action"]


def test_push_policy_scoped_to_repositories_with_create() -> None:
    setup = policy.Setup(account="111122223333", repositories=("app", "team/web"), region="eu-west-1",
                         allow_create_repository=True)
    push = policy.push_policy(setup)["Statement"][1]
    assert push["Resource"] == ["arn:aws:ecr:eu-west-1:111122223333:repository/app",
                                "arn:aws:ecr:eu-west-1:111122223333:repository/team/web"]
    assert push["Action"][-1] == "ecr:CreateRepository"
    assert policy.push_policy(policy.Setup(repositories=("app",)))["Statement"][1]["Resource"] == \
        "arn:aws:ecr:*:123456789012:repository/app"


def test_trust_and_user_policies() -> None:
    setup = policy.Setup(account="111122223333", role="Pusher", user="alice")
    assert policy.trust_policy(setup)["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "sts:AssumeRole"}]
    assert policy.user_policy(setup)["Statement"] == [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111122223333:role/Pusher"}]


@pytest.mark.parametrize("region, part", [("*", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_partition(region: str, part: str) -> None:
    assert policy.Setup(region=region, repositories=("a",)).repository_arns()[0].startswith(f"arn:{part}:ecr:")


def test_command_prints_all_three_with_notes() -> None:
    result = CliRunner().invoke(cli, ["policy", "--account", "111122223333", "--repository", "app"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("# Role R:") == 2 and "# User U:" in result.stdout
    assert "GetAuthorizationToken supports only Resource \"*\"" in result.stdout
    blocks, current = [], []
    for line in result.stdout.splitlines():
        if line.startswith("#"):
            if current:
                blocks.append(json.loads("\n".join(current)))
                current = []
        else:
            current.append(line)
    blocks.append(json.loads("\n".join(current)))
    assert blocks == [policy.push_policy(policy.Setup("111122223333", repositories=("app",))),
                      policy.trust_policy(policy.Setup("111122223333")),
                      policy.user_policy(policy.Setup("111122223333"))]
    assert "example account" not in result.stderr


def test_command_document_is_plain_json_and_warns_about_the_example_account() -> None:
    result = CliRunner().invoke(cli, ["policy", "--document", "trust", "--user", "bob"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:user/bob"}
    assert "example account 123456789012" in result.stderr


def test_key_rotation_adds_the_three_iam_actions_on_the_user_itself() -> None:
    setup = policy.Setup(account="111122223333", user="ci", allow_key_rotation=True)
    statements = policy.user_policy(setup)["Statement"]
    assert isinstance(statements, list) and len(statements) == 2
    assert statements[1] == {"Sid": "RotateOwnKeys", "Effect": "Allow",
                             "Action": ["iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey"],
                             "Resource": "arn:aws:iam::111122223333:user/${aws:username}"}
    assert "rotating its own access keys" in policy.render_all(setup)
    assert len(policy.user_policy(policy.Setup())["Statement"]) == 1  # not without the option

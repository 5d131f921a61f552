"""``assumer rotate`` against the emulator's IAM: a new key, checked, stored, the old one deleted,
and the next role session signed with the new key (seen at the recording proxy)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.tools.awsconfig import MFA_SERIAL
from tests.tools.awshome import AwsHome
from tests.tools.ecr import admin_client
from tests.tools.moto_server import ACCOUNT, REGION, trust
from tests.tools.secret_service import keyring_secret


@dataclass
class Rotatable:
    user: str
    role_arn: str
    key_id: str


def make_user(aws_home: AwsHome, *, rotation: bool = True) -> Rotatable:
    """A fresh IAM user (keys stored with `assumer add rot`) whose policy is what `assumer policy` prints."""
    suffix = uuid.uuid4().hex[:8]
    user, role = f"ROT{suffix}", f"RROT{suffix}"
    iam = admin_client(aws_home.world, "iam")
    args = ["policy", "--document", "user", "--account", ACCOUNT, "--user", user, "--role", role]
    printed = aws_home.run(args + (["--allow-key-rotation"] if rotation else []))
    assert printed.returncode == 0, printed.stderr
    iam.create_user(UserName=user)
    # The printed actions, as printed; the resource widened for moto, which authorizes every IAM call
    # against "*" and expands no policy variable (AWS matches user/${aws:username} to the caller).
    document = json.loads(printed.stdout)
    for statement in document["Statement"]:
        if statement.get("Sid") == "RotateOwnKeys":
            assert statement["Resource"] == f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"
            statement["Resource"] = "*"
    assert rotation == any(s.get("Sid") == "RotateOwnKeys" for s in document["Statement"])
    iam.put_user_policy(UserName=user, PolicyName="assumer", PolicyDocument=json.dumps(document))
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/{user}"))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    added = aws_home.run(["add", "rot"], input=f"{key['AccessKeyId']}\n{key['SecretAccessKey']}\n")
    assert added.returncode == 0, added.stderr
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
    aws_home.add_config(f"[profile rot]\nregion = {REGION}\n")
    aws_home.add_role_profile("rrot", role=role_arn, source="rot")
    return Rotatable(user, role_arn, key["AccessKeyId"])


def stored_key_id() -> str:
    secret = keyring_secret("assumer-keys", "rot")
    assert secret is not None
    return str(json.loads(secret)["AccessKeyId"])


def keys_in_iam(aws_home: AwsHome, user: str) -> list[str]:
    listing = admin_client(aws_home.world, "iam").list_access_keys(UserName=user)
    return [key["AccessKeyId"] for key in listing["AccessKeyMetadata"]]


def test_rotate_replaces_the_key_and_the_next_session_is_signed_with_the_new_one(aws_home: AwsHome) -> None:
    rot = make_user(aws_home)
    assert aws_home.run(["env", "rrot"]).returncode == 0
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == rot.key_id
    result = aws_home.run(["rotate", "rot"])
    assert result.returncode == 0, result.stderr
    new = stored_key_id()
    assert new != rot.key_id
    assert keys_in_iam(aws_home, rot.user) == [new]  # exactly one key: the stored one; the old one is gone
    assert f"{rot.key_id} -> {new}" in result.stderr
    assert aws_home.proxy.params("DeleteAccessKey")[-1]["AccessKeyId"] == rot.key_id
    assert aws_home.proxy.requests("GetCallerIdentity")[-1].access_key_id == new  # checked before it was stored
    # The session made from the old key is gone: the next one is assumed, signed with the new key.
    again = aws_home.run(["env", "rrot"])
    assert again.returncode == 0, again.stderr
    assert aws_home.proxy.count("AssumeRole") == 2
    assert aws_home.proxy.requests("AssumeRole")[-1].access_key_id == new


def test_a_user_with_two_keys_gets_a_clear_error_and_nothing_changes(aws_home: AwsHome) -> None:
    rot = make_user(aws_home)
    admin_client(aws_home.world, "iam").create_access_key(UserName=rot.user)
    before = keys_in_iam(aws_home, rot.user)
    result = aws_home.run(["rotate", "rot"])
    assert result.returncode == 3
    assert "already has two access keys" in result.stderr and len(result.stderr.splitlines()) == 1
    assert keys_in_iam(aws_home, rot.user) == before and stored_key_id() == rot.key_id
    assert aws_home.proxy.count("CreateAccessKey") == 0


def test_without_the_permission_it_is_denied_naming_the_policy_option(aws_home: AwsHome) -> None:
    rot = make_user(aws_home, rotation=False)
    result = aws_home.run(["rotate", "rot"])
    assert result.returncode == 4
    assert "--allow-key-rotation" in result.stderr
    assert keys_in_iam(aws_home, rot.user) == [rot.key_id] and stored_key_id() == rot.key_id


def test_keys_in_a_file_are_not_rotated(aws_home: AwsHome) -> None:
    result = aws_home.run(["rotate", "u"])
    assert result.returncode == 3
    assert "not in the keyring" in result.stderr and "assumer add u" in result.stderr
    assert aws_home.proxy.requests() == []


def test_a_profile_with_mfa_signs_iam_calls_with_an_mfa_session(aws_home: AwsHome) -> None:
    rot = make_user(aws_home)
    # With IAM enforcement on, moto wants GetSessionToken allowed (AWS allows it to every IAM user).
    admin_client(aws_home.world, "iam").put_user_policy(
        UserName=rot.user, PolicyName="session", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetSessionToken", "Resource": "*"}]}))
    aws_home.add_config(f"[profile rotm]\nregion = {REGION}\nmfa_serial = {MFA_SERIAL}\n")
    secret = keyring_secret("assumer-keys", "rot")
    assert secret is not None
    keys = json.loads(secret)
    assert aws_home.run(["add", "rotm"], input=f"{keys['AccessKeyId']}\n{keys['SecretAccessKey']}\n").returncode == 0
    result = aws_home.run(["rotate", "rotm", "--mfa-code", "135790"])
    [token] = aws_home.proxy.requests("GetSessionToken")
    assert (token.params["SerialNumber"], token.params["TokenCode"]) == (MFA_SERIAL, "135790")
    assert token.access_key_id == rot.key_id
    # moto's GetSessionToken hands out a fixed example key its own IAM then rejects: the point here is
    # which key signed the IAM call (the MFA session's), and that nothing changed when it failed.
    [listing] = aws_home.proxy.requests("ListAccessKeys")
    assert listing.access_key_id != rot.key_id
    assert result.returncode == 4, result.stderr
    assert keys_in_iam(aws_home, rot.user) == [rot.key_id]


@pytest.mark.parametrize("args", [["rotate"], ["rotate", "nosuch"]])
def test_bad_usage(aws_home: AwsHome, args: list[str]) -> None:
    result = aws_home.run(args)
    assert result.returncode in (2, 3)
    assert "Traceback" not in result.stderr


def test_a_cached_mfa_session_serves_rotate_without_a_second_code(aws_home: AwsHome) -> None:
    # The recording proxy hands out MFA sessions for U's keys (tests/integration/conftest.py).
    u = aws_home.world.u
    aws_home.add_config(f"[profile umfa]\nregion = {REGION}\nmfa_serial = {MFA_SERIAL}\n")
    assert aws_home.run(["add", "umfa"], input=f"{u.access_key_id}\n{u.secret_access_key}\n").returncode == 0
    first = aws_home.run(["env", "umfa", "--mfa-code", "246802"])
    assert first.returncode == 0, first.stderr
    result = aws_home.run(["rotate", "umfa"])  # no code, no terminal: only the cached session can serve
    assert aws_home.proxy.count("GetSessionToken") == 1
    [listing] = aws_home.proxy.requests("ListAccessKeys")
    assert listing.access_key_id is not None and listing.access_key_id.startswith("ASIA")
    # U may not list its keys (its only permission is sts:AssumeRole): refused, nothing created.
    assert result.returncode == 4 and aws_home.proxy.count("CreateAccessKey") == 0

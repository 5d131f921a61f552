"""assumer.core.rotation's failure paths, with a stand-in IAM: never lose a working key.

The user-facing flow runs against the emulator in tests/integration/test_rotate.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from assumer.core import rotation
from assumer.credentials import Credentials
from assumer.errors import AuthError, ConfigError, KeyringError

OLD = Credentials("AKIAOLDOLDOLDOLDOLD1", "old-secret-old-secret")


class FakeIam:
    """Keys of one user; records calls; ``fail`` maps a method to the exception it raises."""

    def __init__(self, keys: list[str], fail: dict[str, Exception] | None = None) -> None:
        self.keys, self.fail, self.calls = list(keys), fail or {}, []

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if name in self.fail:
            raise self.fail[name]

    def list_access_keys(self) -> dict[str, Any]:
        self._call("list")
        return {"AccessKeyMetadata": [{"UserName": "alice", "AccessKeyId": key} for key in self.keys]}

    def create_access_key(self) -> dict[str, Any]:
        self._call("create")
        self.keys.append("AKIANEWNEWNEWNEWNEW1")
        return {"AccessKey": {"AccessKeyId": "AKIANEWNEWNEWNEWNEW1", "SecretAccessKey": "new-secret-new-secret"}}

    def delete_access_key(self, AccessKeyId: str) -> None:
        self._call("delete", AccessKeyId=AccessKeyId)
        self.keys.remove(AccessKeyId)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(iam: FakeIam, *, store: Any = None, verify: Any = None, clock: Clock | None = None) -> rotation.Rotation:
    clock = clock or Clock()
    stored: list[Credentials] = []
    return rotation.rotate("p", OLD, signer=OLD, store=store or stored.append, region="eu-west-1",
                           iam=iam, verify=verify or (lambda keys: None),
                           sleep=clock.sleep, clock=clock, timeout=10)


def test_success_creates_checks_stores_then_deletes_the_old_key() -> None:
    iam = FakeIam([OLD.access_key_id])
    stored: list[Credentials] = []
    done = run(iam, store=stored.append)
    assert done == rotation.Rotation("alice", OLD.access_key_id, "AKIANEWNEWNEWNEWNEW1")
    assert [name for name, _ in iam.calls] == ["list", "create", "delete"]
    assert iam.keys == ["AKIANEWNEWNEWNEWNEW1"] and stored[0].access_key_id == "AKIANEWNEWNEWNEWNEW1"


def test_a_new_key_is_retried_until_sts_accepts_it() -> None:
    attempts = []

    def verify(keys: Credentials) -> None:
        attempts.append(keys.access_key_id)
        if len(attempts) < 3:
            raise AuthError("the access key is not valid (InvalidClientTokenId)")

    iam = FakeIam([OLD.access_key_id])
    run(iam, verify=verify)
    assert len(attempts) == 3 and iam.keys == ["AKIANEWNEWNEWNEWNEW1"]


def test_a_new_key_that_never_works_is_deleted_and_the_old_one_kept() -> None:
    def verify(keys: Credentials) -> None:
        raise AuthError("the access key is not valid (InvalidClientTokenId)")

    iam, stored = FakeIam([OLD.access_key_id]), []
    with pytest.raises(AuthError, match="not accepted within 10s"):
        run(iam, verify=verify, store=stored.append)
    assert iam.keys == [OLD.access_key_id] and stored == []


def test_a_failed_store_deletes_the_new_key_and_keeps_the_old_one() -> None:
    def store(keys: Credentials) -> None:
        raise KeyringError("cannot write to the keyring: locked")

    iam = FakeIam([OLD.access_key_id])
    with pytest.raises(KeyringError):
        run(iam, store=store)
    assert iam.keys == [OLD.access_key_id]


def test_a_failed_delete_of_the_old_key_says_the_new_one_is_stored_and_what_to_run() -> None:
    import botocore.exceptions

    denied = botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"},
                                              "ResponseMetadata": {"HTTPStatusCode": 403}}, "DeleteAccessKey")
    iam, stored = FakeIam([OLD.access_key_id], fail={"delete": denied}), []
    with pytest.raises(AuthError) as caught:
        run(iam, store=stored.append)
    assert "the new key AKIANEWNEWNEWNEWNEW1 is stored" in caught.value.message
    assert caught.value.hint == ("delete the old key by hand: aws iam delete-access-key --user-name alice "
                                 f"--access-key-id {OLD.access_key_id}")
    assert stored and stored[0].access_key_id == "AKIANEWNEWNEWNEWNEW1"


def test_two_keys_already_change_nothing() -> None:
    iam = FakeIam([OLD.access_key_id, "AKIAOTHEROTHEROTHER1"])
    with pytest.raises(ConfigError, match="already has two access keys"):
        run(iam)
    assert [name for name, _ in iam.calls] == ["list"]


def test_stored_keys_that_are_not_the_users_change_nothing() -> None:
    iam = FakeIam(["AKIASOMEONEELSEKEY01"])
    with pytest.raises(ConfigError, match="are not a key of IAM user alice"):
        run(iam)
    assert [name for name, _ in iam.calls] == ["list"]

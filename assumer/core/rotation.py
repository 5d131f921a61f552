"""``assumer rotate``: replace the long-term keys stored with ``assumer add``, never losing a working key.

Order, so that at every step one working key is stored: list the user's keys
(two already: stop before anything changes), create a new key, wait until AWS
accepts it (IAM is eventually consistent), store it, then delete the old one. A new
key that never works, or that cannot be stored, is deleted again and the old one
kept; an old key that cannot be deleted is reported with the command that finishes
the job, the new key already stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from assumer import logs, ui
from assumer.credentials import Credentials
from assumer.errors import AssumerError, AuthError, ConfigError

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

# How long a new key may take to be accepted by STS, and how often to ask.
VERIFY_TIMEOUT = 60.0
VERIFY_EVERY = 2.0


class Rotation(NamedTuple):
    """What ``rotate`` did."""

    user: str
    old_key_id: str
    new_key_id: str


def rotate(
    profile: str,
    old: Credentials,
    *,
    signer: Credentials,
    store: Callable[[Credentials], None],
    region: str | None,
    iam: IAMClient | None = None,
    verify: Callable[[Credentials], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = VERIFY_TIMEOUT,
) -> Rotation:
    """Rotate ``old`` (the stored keys of ``profile``); IAM calls are signed by ``signer``.

    ``signer`` is ``old`` itself, or an MFA session made from it when the profile
    names an MFA device (IAM may require MFA). ``store`` saves the new keys.
    """
    from assumer.core import sts

    client = iam or _iam(signer, region)
    action = f"rotating the keys of profile {profile!r}"
    try:
        existing = client.list_access_keys()["AccessKeyMetadata"]
    except Exception as exc:  # noqa: BLE001 - botocore's errors are translated; translate() re-raises the rest
        raise _explained(sts.translate(exc, action=action, profile=profile, caller=signer.access_key_id)) from None
    user = existing[0]["UserName"] if existing else "?"
    if len(existing) >= 2:
        ids = ", ".join(key["AccessKeyId"] for key in existing)
        raise ConfigError(f"IAM user {user} already has two access keys ({ids}), the most AWS allows; "
                          "nothing was changed",
                          hint=f"delete the one no longer in use (aws iam delete-access-key --user-name {user} "
                               "--access-key-id ID), then rotate")
    if not any(key["AccessKeyId"] == old.access_key_id for key in existing):
        raise ConfigError(f"the keys stored for profile {profile!r} ({old.access_key_id}) are not a key of IAM "
                          f"user {user}; nothing was changed",
                          hint=f"store the right ones with 'assumer add {profile}'")
    try:
        created = client.create_access_key()["AccessKey"]
    except Exception as exc:  # noqa: BLE001 - as above
        raise _explained(sts.translate(exc, action=action, profile=profile, caller=signer.access_key_id)) from None
    new = Credentials(created["AccessKeyId"], created["SecretAccessKey"])
    logs.register_secrets(new.secrets())
    try:
        _wait_until_accepted(new, verify or (lambda keys: _check(keys, region, profile)), sleep=sleep, clock=clock,
                             timeout=timeout)
        store(new)
    except BaseException:
        _delete_quietly(client, new.access_key_id)  # never leave a key behind that nothing holds
        raise
    try:
        client.delete_access_key(AccessKeyId=old.access_key_id)
    except Exception as exc:  # noqa: BLE001 - as above
        error = sts.translate(exc, action=f"deleting the old key {old.access_key_id} of IAM user {user}",
                              profile=profile, caller=signer.access_key_id)
        error.message = f"the new key {new.access_key_id} is stored, but {error.message}"
        error.hint = (f"delete the old key by hand: aws iam delete-access-key --user-name {user} "
                      f"--access-key-id {old.access_key_id}")
        raise error from None
    return Rotation(user, old.access_key_id, new.access_key_id)


def _iam(signer: Credentials, region: str | None) -> IAMClient:
    from assumer.core import sts

    return sts.client("iam", signer, region=region)


def _check(keys: Credentials, region: str | None, profile: str) -> None:
    from assumer.core import sts

    sts.caller_identity(keys, region=region, profile=None, label=profile)


def _wait_until_accepted(new: Credentials, verify: Callable[[Credentials], None], *, sleep: Callable[[float], None],
                         clock: Callable[[], float], timeout: float) -> None:
    """A new key is accepted by STS a few seconds after IAM created it: ask until it is, within ``timeout``."""
    deadline = clock() + timeout
    while True:
        try:
            verify(new)
            return
        except AuthError as exc:
            if clock() + VERIFY_EVERY > deadline:
                exc.message = f"the new key {new.access_key_id} was not accepted within {timeout:.0f}s ({exc.message})"
                exc.hint = "it was deleted again and the old keys kept; try again later"
                raise
            sleep(VERIFY_EVERY)


def _delete_quietly(client: IAMClient, key_id: str) -> None:
    try:
        client.delete_access_key(AccessKeyId=key_id)
    except Exception as exc:  # noqa: BLE001 - already failing: that error is reported, this one said once
        ui.warn(f"the new key {key_id} could not be deleted again ({type(exc).__name__}): delete it by hand with "
                f"'aws iam delete-access-key --access-key-id {key_id}'")


def _explained(error: AssumerError) -> AssumerError:
    if isinstance(error, AuthError) and "denied" in error.message:
        error.hint = ("the user needs iam:ListAccessKeys, iam:CreateAccessKey and iam:DeleteAccessKey on itself "
                      "('assumer policy --allow-key-rotation' prints them)")
    return error

"""Long-term keys stored with ``assumer add``: keyring service ``assumer-keys``.

Unlike sessions these are required to be in the keyring: without a usable one,
``add`` and ``remove`` fail (exit 5) instead of silently keeping nothing.
"""

from __future__ import annotations

import re

from assumer.credentials import Credentials
from assumer.errors import ConfigError
from assumer.store.backends import KEYS_SERVICE, KeyringStore, Store

_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")


def validate(profile: str, key_id: str, secret: str) -> Credentials:
    """Check what was typed or piped in before anything is written."""
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id or not secret:
        raise ConfigError(
            f"no keys given for profile {profile!r}",
            hint="type them at the prompt, or pipe two lines: the access key ID, then the secret",
        )
    if not _KEY_ID.match(key_id):
        raise ConfigError(
            # Nothing of the line is quoted: keys piped in the wrong order put the secret there.
            f"the first line ({len(key_id)} characters) is not an access key ID",
            hint="the first line is the key ID (AKIA...), the second the secret",
        )
    if len(secret) < 16 or any(c.isspace() for c in secret):
        raise ConfigError("the secret access key looks wrong", hint="paste it exactly, on the second line")
    return Credentials(key_id, secret)


def store_keys(profile: str, key_id: str, secret: str, *, store: Store | None = None) -> None:
    """Store validated long-term keys for ``profile``."""
    credentials = validate(profile, key_id, secret)
    (store or KeyringStore(KEYS_SERVICE)).set(profile, credentials.to_json())


def delete_keys(profile: str, *, store: Store | None = None) -> bool:
    """Delete ``profile``'s stored keys; False if there were none."""
    return (store or KeyringStore(KEYS_SERVICE)).delete(profile)

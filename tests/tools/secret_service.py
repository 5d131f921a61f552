"""The suite's Secret Service (gnome-keyring on the dbus session of tests/run.sh), read and changed directly.

keyring itself cannot list or corrupt items; these helpers use secretstorage, as the
daemon's other clients would.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

SERVICES = ("assumer", "assumer-keys")  # keyring services the package writes


def secret_service_problem() -> str | None:
    """Why the Secret Service cannot be used, or None when it can."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "there is no dbus session bus (DBUS_SESSION_BUS_ADDRESS is unset)"
    try:
        import secretstorage

        connection = secretstorage.dbus_init()
        try:
            if secretstorage.get_default_collection(connection).is_locked():
                return "the Secret Service's default collection is locked"
        finally:
            connection.close()
    except Exception as exc:  # noqa: BLE001 - any failure here means the same thing to the user
        return f"no usable Secret Service on the session bus ({type(exc).__name__}: {exc})"
    return None


def keyring_items(service: str) -> list[dict[str, str]]:
    """The attributes of every Secret Service item stored under ``service``."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        return [item.get_attributes()
                for item in secretstorage.search_items(connection, {"service": service})]
    finally:
        connection.close()


def keyring_secret(service: str, username: str) -> bytes | None:
    """The secret of one item, as the keyring library stored it."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        for item in secretstorage.search_items(connection, {"service": service,
                                                            "username": username}):
            return item.get_secret()
        return None
    finally:
        connection.close()


def overwrite_secrets(service: str, secret: bytes) -> int:
    """Replace the secret of every item under ``service`` with ``secret``; how many there were."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        items = list(secretstorage.search_items(connection, {"service": service}))
        for item in items:
            item.set_secret(secret)
        return len(items)
    finally:
        connection.close()


def wipe_keyring(services: Iterable[str] = SERVICES) -> None:
    """Delete every item of assumer's services; keyring itself cannot list them."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        for service in services:
            for item in secretstorage.search_items(connection, {"service": service}):
                item.delete()
    finally:
        connection.close()

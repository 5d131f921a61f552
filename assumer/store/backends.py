"""Secret stores: the OS keyring (through keyring), and a null stand-in for ``--no-cache``.

Reads try :mod:`assumer.store.secretservice` first, a lean Secret Service reader
that answers in a fraction of keyring's start-up time and raises ``Fallback``
whenever keyring might read a different store; writes and every other platform
go through keyring itself.
"""

from __future__ import annotations

from typing import Protocol

from assumer.errors import KeyringError

SESSION_SERVICE = "assumer"
KEYS_SERVICE = "assumer-keys"

# What KeyringStore.get returns for an entry whose secret is not UTF-8 (not JSON either).
UNDECODABLE = "\ufffd (a secret that is not UTF-8 text)"

KEYRING_FIX = (
    "start and unlock a Secret Service (e.g. gnome-keyring) in this login session, "
    "or choose a backend with PYTHON_KEYRING_BACKEND"
)


class Store(Protocol):
    """A place for secrets, addressed by (service, username)."""

    def get(self, username: str) -> str | None: ...

    def set(self, username: str, secret: str) -> None: ...

    def delete(self, username: str) -> bool: ...


class KeyringStore:
    """The OS keyring under one service name."""

    def __init__(self, service: str) -> None:
        self.service = service

    def get(self, username: str) -> str | None:
        from assumer.store import secretservice

        try:
            return secretservice.get_password(self.service, username)
        except secretservice.Fallback:
            from assumer import logs  # here: a lean read that answers (a cache hit) needs no logging

            logs.debug(__name__, "lean Secret Service read fell back to keyring", exc_info=True)
        import keyring
        import keyring.errors

        try:
            return keyring.get_password(self.service, username)
        except keyring.errors.KeyringError as exc:
            raise _keyring_error("read from", exc) from None
        except UnicodeDecodeError:
            # Something else stored bytes that are not text under our name: hand back a
            # value no reader accepts, so the caller discards or reports it as corrupt.
            return UNDECODABLE

    def set(self, username: str, secret: str) -> None:
        import keyring
        import keyring.errors

        try:
            keyring.set_password(self.service, username, secret)
        except keyring.errors.KeyringError as exc:
            raise _keyring_error("write to", exc) from None

    def delete(self, username: str) -> bool:
        import keyring
        import keyring.errors

        try:
            keyring.delete_password(self.service, username)
        except keyring.errors.PasswordDeleteError:
            return False
        except keyring.errors.KeyringError as exc:
            raise _keyring_error("delete from", exc) from None
        return True


def _keyring_error(verb: str, exc: Exception) -> KeyringError:
    import keyring.errors

    if isinstance(exc, keyring.errors.NoKeyringError):
        detail = "no keyring backend is available"  # keyring's own text is a paragraph of advice
    else:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return KeyringError(f"cannot {verb} the keyring: {detail}", hint=KEYRING_FIX)


class NullStore:
    """A store that keeps nothing (``--no-cache``, or no usable keyring)."""

    def get(self, username: str) -> str | None:  # noqa: ARG002 - the Store protocol's signature
        return None

    def set(self, username: str, secret: str) -> None:
        pass

    def delete(self, username: str) -> bool:  # noqa: ARG002 - the Store protocol's signature
        return False

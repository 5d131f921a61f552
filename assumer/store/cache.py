"""The session cache: sessions in the keyring, a non-secret index beside it.

keyring cannot list its entries, so ``list``, ``clear``, ``add`` and ``remove`` read a
small index (cache key -> profiles, root, kind, detail, expiry; never a secret) under
the XDG state dir. Two profiles with the same settings share one cache key, so a row
lists every profile that asked for it; ``root`` is the profile at the root of the
chain, whose stored keys ``add`` and ``remove`` change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from assumer import ui
from assumer.credentials import DEFAULT_MIN_TTL, Credentials, format_timestamp
from assumer.errors import AssumerError, KeyringError
from assumer.store import locking
from assumer.store.backends import KEYRING_FIX, NullStore, Store

if TYPE_CHECKING:
    from pathlib import Path

    # Cache key -> its row: profile (the last to ask), profiles (every profile that asked
    # for it), root (a session's root profile), kind ("session" or "ecr"), detail (the
    # role ARN, "session token" or the registry host) and expiration.
    Entries = dict[str, dict[str, object]]


class Index:
    """``index.json``: cache key -> {profile, kind, detail, expiration}. Written atomically, 0600."""

    def __init__(self, path: Path | None = None) -> None:
        from assumer import paths  # pathlib: only when the index is used, never on a cache hit

        self.path = path or paths.state_dir() / "index.json"

    def load(self) -> Entries:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            ui.warn(f"ignoring unreadable session index {self.path}: {exc}")
            return {}
        if not isinstance(data, dict):
            return {}
        # Rows that are not objects (a hand-edited or foreign file) are skipped, not a crash in list/clear.
        return {key: meta for key, meta in data.items() if isinstance(meta, dict)}

    def _update(self, change: Callable[[Entries], None]) -> None:
        from assumer import paths

        try:
            paths.private_dir(self.path.parent)
            with locking.single_flight("index", timeout=10):
                entries = self.load()
                change(entries)
                paths.write_private_file(self.path, json.dumps(entries, indent=1, sort_keys=True))
        except (OSError, AssumerError) as exc:
            # The index only serves 'list' and 'clear': a failed update costs those, not the session.
            reason = exc.message if isinstance(exc, AssumerError) else (exc.strerror or str(exc))
            ui.warn(f"cannot update the session index {self.path} ({reason}); 'assumer list' and "
                    "'assumer clear' may not see every cached session")

    def record(self, key: str, **meta: str) -> None:
        """Write ``key``'s row; the profiles that asked for the same key before are kept."""
        def change(entries: Entries) -> None:
            before = row_profiles(entries.get(key, {}))
            profile = meta.get("profile", "")
            entries[key] = {**meta, "profiles": sorted({*before, profile} - {""})}

        self._update(change)

    def forget(self, keys: Iterable[str]) -> None:
        doomed = set(keys)

        def change(entries: Entries) -> None:
            for key in doomed:
                entries.pop(key, None)

        self._update(change)


class SessionCache:
    """Cached credentials by key, in a :class:`Store`; degrades to no caching if the store fails."""

    def __init__(self, store: Store, index: Index | None = None, min_ttl: int = DEFAULT_MIN_TTL) -> None:
        self.store = store
        self.index = index
        self.min_ttl = min_ttl
        self._degraded = False

    def get(self, key: str, *, label: str) -> Credentials | None:
        """The cached credentials for ``key`` (fresh or not), or None. A corrupt entry is discarded."""
        try:
            text = self.store.get(key)
        except KeyringError as exc:
            self._degrade(exc)
            return None
        if text is None:
            return None
        try:
            return Credentials.from_json(text)
        except ValueError as exc:
            ui.warn(f"discarding a corrupt cached session for {label} ({exc}); a new one replaces it")
            self.delete(key)
            return None

    def put(self, key: str, credentials: Credentials, *, profile: str, kind: str, detail: str = "",
            root: str | None = None) -> None:
        """Store ``credentials``; on a keyring failure warn once and carry on uncached."""
        expiration = format_timestamp(credentials.expiration) if credentials.expiration else ""
        self.put_text(key, credentials.to_json(), profile=profile, kind=kind, detail=detail, expiration=expiration,
                      root=root)

    def put_text(self, key: str, text: str, *, profile: str, kind: str, detail: str, expiration: str,
                 root: str | None = None) -> bool:
        """Store a secret (credentials' JSON, an ECR token) with its index row.

        ``root``: the profile whose long-term keys it was made from, if known (see
        :func:`clear_derived`). True when it is now in the store; False under
        ``--no-cache`` or when the keyring failed.
        """
        try:
            self.store.set(key, text)
        except KeyringError as exc:
            self._degrade(exc)
            return False
        if isinstance(self.store, NullStore):
            return False
        if self.index is not None:
            meta = {"profile": profile, "kind": kind, "detail": detail, "expiration": expiration}
            if root is not None:
                meta["root"] = root
            self.index.record(key, **meta)
        return True

    def get_text(self, key: str) -> str | None:
        try:
            return self.store.get(key)
        except KeyringError as exc:
            self._degrade(exc)
            return None

    def delete(self, key: str) -> None:
        try:
            self.store.delete(key)
        except KeyringError as exc:
            self._degrade(exc)
        if self.index is not None:
            self.index.forget([key])

    def _degrade(self, exc: KeyringError) -> None:
        if not self._degraded:
            ui.warn(f"{exc.message}; continuing without the session cache ({KEYRING_FIX})")
        self._degraded = True
        self.store = NullStore()


# An index row saying that keys for a profile are stored with 'assumer add' (no secret: for 'list').
STORED_KEYS = "keys"


def record_stored_keys(index: Index, profile: str) -> None:
    """Note that ``profile``'s long-term keys are in the keyring (its ``root`` row: 'remove' and 'add' drop it)."""
    index.record(f"{STORED_KEYS}:{profile}", kind=STORED_KEYS, profile=profile, root=profile)


def row_profiles(meta: dict[str, object]) -> list[str]:
    """Every profile an index row was cached for (rows of older versions name one)."""
    profiles = meta.get("profiles")
    if isinstance(profiles, list):
        return [name for name in profiles if isinstance(name, str)]
    profile = meta.get("profile")
    return [profile] if isinstance(profile, str) else []


def clear(index: Index, store: Store, *, profile: str | None, keys: Iterable[str] = ()) -> list[str]:
    """Delete cached sessions and tokens (all, or one profile's); returns the profiles cleared.

    A profile's are the rows that list it and ``keys``, the keys its settings make now:
    another profile with the same settings shares such a key, and a cache hit (which
    never writes the index) may be all that ``profile`` ever did with it.
    Long-term keys live under another service and are never touched here.
    """
    entries = {key: meta for key, meta in index.load().items() if meta.get("kind") != STORED_KEYS}
    doomed = {key for key, meta in entries.items() if profile is None or profile in row_profiles(meta)}
    cleared = {name for key in doomed for name in row_profiles(entries[key]) or ["?"]}
    for key in keys:
        if key in entries:
            doomed.add(key)
            cleared.update(row_profiles(entries[key]))
        elif store.delete(key) and profile is not None:  # cached, but without a row
            cleared.add(profile)
    _delete(index, store, doomed)
    return sorted(cleared)


def clear_derived(index: Index, store: Store, *, root: str) -> list[str]:
    """Delete what was made from ``root``'s long-term keys (``add`` and ``remove`` change them).

    Sessions whose chain starts at ``root``, and every row that does not say where it
    came from (ECR tokens, rows of older versions): fetching those again is cheap,
    serving one made with the old keys is not.
    """
    entries = index.load()
    doomed = {key for key, meta in entries.items() if meta.get("root", root) == root}
    _delete(index, store, doomed)
    return sorted({name for key in doomed for name in row_profiles(entries[key]) or ["?"]})


def _delete(index: Index, store: Store, doomed: set[str]) -> None:
    for key in sorted(doomed):
        store.delete(key)
    if doomed:
        index.forget(doomed)

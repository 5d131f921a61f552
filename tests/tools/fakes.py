"""Fakes for fast unit tests of edge cases (never the only test of a user flow)."""

from __future__ import annotations


class MemoryStore:
    """An in-memory store for unit tests of edge cases."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def get(self, username: str) -> str | None:
        return self.items.get(username)

    def set(self, username: str, secret: str) -> None:
        self.items[username] = secret

    def delete(self, username: str) -> bool:
        return self.items.pop(username, None) is not None

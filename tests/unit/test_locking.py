"""assumer.store.locking: ASSUMER_LOCK_TIMEOUT values that could never time out fall back to the default."""

from __future__ import annotations

import pytest

from assumer.store import locking


@pytest.mark.parametrize("raw", ["nan", "-1", "soon"])
def test_a_lock_timeout_that_could_never_expire_is_the_default(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSUMER_LOCK_TIMEOUT", raw)
    assert locking.lock_timeout() == locking.DEFAULT_TIMEOUT


def test_a_lock_timeout_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSUMER_LOCK_TIMEOUT", "2.5")
    assert locking.lock_timeout() == 2.5
    monkeypatch.setenv("ASSUMER_LOCK_TIMEOUT", "0")
    assert locking.lock_timeout() == 0

"""assumer.store.locking: ASSUMER_LOCK_TIMEOUT values that could never time out fall back to the default;
--debug says when a lock is waited for."""

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


def test_debug_says_when_it_waits_for_another_holder(tmp_path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """--debug shows lock waits (issue 12 §2): who waited, for what, and how long."""
    import logging
    import threading

    from assumer import logs
    from assumer.store import locking

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    tmp_path.chmod(0o700)
    monkeypatch.setattr(logs, "_enabled", True)
    caplog.set_level(logging.DEBUG, logger="assumer.store.locking")
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with locking.single_flight("k"):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    threading.Timer(0.3, release.set).start()
    with locking.single_flight("k", timeout=10) as got:
        assert got
    thread.join()
    messages = [record.getMessage() for record in caplog.records]
    assert any("another assumer holds the lock" in m and "k.lock" in m for m in messages)
    assert any(m.startswith("got the lock") and "after" in m for m in messages)

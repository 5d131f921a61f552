"""SIGTERM handling shared by both console scripts (``assumer`` and ``docker-credential-assumer``)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # _signal has no stubs; signal.signal is its function wrapped in enum conversions
    from signal import SIGTERM, signal as install
    from types import FrameType
else:
    # The C module: signal.py builds three IntEnums on import, about 0.5 ms of every
    # cache hit, to install one handler.
    try:
        from _signal import SIGTERM, signal as install
    except ImportError:  # an interpreter without CPython's C module
        from signal import SIGTERM, signal as install


def interrupt_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C does (exit 130, no traceback, nothing left behind).

    Installed before anything else, so the fast path and click's start-up are
    covered too; ``ecr-push`` / ``ecr-login`` install their own handler to stop the
    engine first (exit 143).
    """

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    install(SIGTERM, interrupt)

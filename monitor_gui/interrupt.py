"""Ctrl-C and SIGTERM for the window: Qt's event loop alone never lets Python handle them.

Qt-free until ``attach()``: the handler is installed before PySide6 is even imported, since
a KeyboardInterrupt inside that import aborts the process ("libshiboken/signature: could
not initialize") or is swallowed (the window then opened and ignored the Ctrl-C).
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterable
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_installed: QuitOnSignal | None = None


def install() -> QuitOnSignal:
    """The process's one QuitOnSignal (signal handlers are process-wide): created on first
    call, or again after ``restore()``."""
    global _installed
    if _installed is None or _installed.restored:
        _installed = QuitOnSignal()
    return _installed


def uninstall() -> None:
    """Restore what ``install()`` replaced, if it still is installed."""
    if _installed is not None:
        _installed.restore()


class QuitOnSignal:
    """Turns SIGINT/SIGTERM into one call of ``on_signal`` on the GUI thread.

    Python runs a signal handler only when the interpreter next executes bytecode; while
    Qt's loop waits in C that may be never (SIGINT then did nothing), and with Python's
    default handler a KeyboardInterrupt surfaced in whatever slot ran next (a traceback
    from ``controller.tick``, and the window stayed open). So the handler is ours, and
    ``signal.set_wakeup_fd`` makes the C-level handler write a byte to a socket pair that
    a QSocketNotifier watches: the loop wakes, runs Python, which runs the handler.

    Create it first (before importing Qt and building the window: a signal meanwhile is
    remembered), then ``attach()`` once the QApplication exists; ``restore()`` undoes all.
    """

    def __init__(self, signals: Iterable[signal.Signals] = STOP_SIGNALS) -> None:
        self.restored = False
        self.received: signal.Signals | None = None
        self._callback: Callable[[], None] | None = None
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                 warn_on_full_buffer=False)
        self._previous = {s: signal.signal(s, self._on_signal) for s in signals}
        self._notifier: Any = None  # QSocketNotifier, from attach()

    def attach(self, on_signal: Callable[[], None]) -> None:
        """Call ``on_signal`` (once, from the event loop) when a stop signal arrives."""
        from PySide6.QtCore import QSocketNotifier, QTimer

        self._callback = on_signal
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        if self.received is not None:  # arrived while the window was being built
            QTimer.singleShot(0, self._fire)

    def _on_signal(self, signum: int, _frame: object) -> None:
        first = self.received is None
        self.received = signal.Signals(signum)
        if first and self._callback is not None:
            from PySide6.QtCore import QTimer

            # Not directly: the handler interrupts arbitrary code (say, mid-apply); the
            # callback runs from the loop, between events.
            QTimer.singleShot(0, self._fire)

    def _fire(self) -> None:
        if self._callback is not None:
            callback, self._callback = self._callback, None
            callback()

    def _drain(self) -> None:
        try:
            while self._reader.recv(512):
                pass
        except OSError:  # BlockingIOError: drained
            pass

    def restore(self) -> None:
        """Put the previous handlers and wakeup fd back; close the socket pair. Idempotent."""
        self.restored = True
        self._callback = None
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None
        if self._previous:
            for s, handler in self._previous.items():
                signal.signal(s, handler)
            self._previous = {}
            signal.set_wakeup_fd(self._previous_fd)
            self._reader.close()
            self._writer.close()

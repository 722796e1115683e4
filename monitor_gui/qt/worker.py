"""The receiving thread: a QObject that owns the zmq PULL socket and emits raw frame batches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

POLL_MS = 50  # how long one recv_batch may block: also the worst-case stop latency


class ListenerWorker(QObject):
    """Runs in its own QThread; the socket is created, used and closed only there.

    zmq sockets are not thread-safe, so nothing else touches ``listener``. Frames are
    handed over undecoded: decoding and applying happen on the GUI thread (the only
    mutator of MonitorState), batched by the controller's timer.
    """

    framesReceived = Signal(object)  # list[bytes]
    bound = Signal(str)  # the actual endpoint (resolves tcp://127.0.0.1:* to a port)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, endpoint: str, make_listener: Callable[[str], Any] | None = None) -> None:
        super().__init__()
        self.endpoint = endpoint
        self._make_listener = make_listener
        self._stop = threading.Event()
        self.received = 0

    @Slot()
    def run(self) -> None:
        try:
            if self._make_listener is None:
                from monitor_gui.listener import Listener

                listener = Listener(self.endpoint)
            else:
                listener = self._make_listener(self.endpoint)
        except Exception as exc:  # e.g. address in use: report it, the window stays usable
            # ListenerError messages already say what to do; others get the endpoint added.
            text = str(exc)
            self.failed.emit(text if self.endpoint in text else f"{self.endpoint}: {text}")
            self.finished.emit()
            return
        self.bound.emit(str(getattr(listener, "endpoint", self.endpoint)))
        try:
            while not self._stop.is_set():
                frames = listener.recv_batch(POLL_MS)
                if frames:
                    self.received += len(frames)
                    self.framesReceived.emit(frames)
        except Exception as exc:  # a socket error must not kill the process silently
            self.failed.emit(f"listener stopped: {exc}")
        finally:
            listener.close()
            self.finished.emit()

    def stop(self) -> None:
        """Thread-safe: the loop notices within POLL_MS."""
        self._stop.set()


class ListenerThread(QObject):
    """Owns the QThread and the worker; start() then stop() (blocks until the socket closed)."""

    def __init__(self, endpoint: str, parent: QObject | None = None,
                 make_listener: Callable[[str], Any] | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("signal-monitor-listener")
        self.worker = ListenerWorker(endpoint, make_listener)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout_ms: int = 5_000) -> bool:
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)

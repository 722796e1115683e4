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
    controlBound = Signal(str)  # live control's PUB endpoint
    controlFailed = Signal(str)  # why live control is off (the window still listens)

    def __init__(self, endpoint: str, make_listener: Callable[[str], Any] | None = None,
                 control: Any = None, control_endpoint: str | None = None) -> None:
        super().__init__()
        self.endpoint = endpoint
        self._make_listener = make_listener
        # Live control (monitor_gui.control.ControlSender): its PUB socket is opened,
        # used and closed in this thread too, next to the PULL socket.
        self.control = control
        self.control_endpoint = control_endpoint
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
        control_sock = self._open_control(listener)
        try:
            while not self._stop.is_set():
                frames = listener.recv_batch(POLL_MS)
                if frames:
                    self.received += len(frames)
                    self.framesReceived.emit(frames)
                if control_sock is not None:
                    self.control.tick(control_sock)  # due or asked for: never blocks
        except Exception as exc:  # a socket error must not kill the process silently
            self.failed.emit(f"listener stopped: {exc}")
        finally:
            if control_sock is not None:
                control_sock.close(linger=0)  # before the listener terminates the context
            listener.close()
            self.finished.emit()

    def _open_control(self, listener: Any) -> Any:
        """Live control's socket, or None (not asked for, or it failed: then said why)."""
        if self.control is None:
            return None
        try:
            from monitor_gui.control import control_endpoint_for, open_control

            sock = open_control(listener, self.control_endpoint)
        except Exception as exc:  # e.g. the port is taken: the data stream goes on
            self.controlFailed.emit(str(exc))
            return None
        self.control.endpoint = control_endpoint_for(listener, self.control_endpoint)
        self.controlBound.emit(self.control.endpoint)
        return sock

    def stop(self) -> None:
        """Thread-safe: the loop notices within POLL_MS."""
        self._stop.set()


class ListenerThread(QObject):
    """Owns the QThread and the worker; start() then stop() (blocks until the socket closed)."""

    def __init__(self, endpoint: str, parent: QObject | None = None,
                 make_listener: Callable[[str], Any] | None = None, control: Any = None,
                 control_endpoint: str | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("signal-monitor-listener")
        self.worker = ListenerWorker(endpoint, make_listener, control, control_endpoint)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.finished.connect(self.thread.quit)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout_ms: int = 5_000) -> bool:
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)

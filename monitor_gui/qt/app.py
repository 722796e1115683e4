"""The composition root of the desktop monitor: builds and connects every object once."""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication

from monitor_gui import interrupt as stop_signals
from monitor_gui.control import ControlSender
from monitor_gui.core.control import LiveControl
from monitor_gui.core.state import MonitorState
from monitor_gui.qt.close_guard import CloseGuard
from monitor_gui.qt.controller import MonitorController
from monitor_gui.qt.theme import current_theme, follow_system_scheme
from monitor_gui.qt.window import MainWindow
from monitor_gui.qt.worker import ListenerThread

ORGANIZATION = "django-signal-monitor"
APPLICATION = "signal-monitor"


@dataclass
class Monitor:
    """Everything run_gui builds, returned by build() so tests can drive the real wiring."""

    app: QApplication
    state: MonitorState
    controller: MonitorController
    window: MainWindow
    listener: ListenerThread | None

    def shutdown(self) -> None:
        """Stop the timers and the listener thread (closes the socket); idempotent."""
        self.controller.timer.stop()
        self.controller.rate_timer.stop()
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    def dispose(self) -> None:
        """shutdown(), then destroy the window while its Python models are still alive.

        Left to interpreter exit, Qt may lay out a view whose Python model is already
        gone: a segfault at exit (seen by bench/bench_gui.py and the demo screenshot).
        """
        self.shutdown()
        self.window.close()
        self.window.deleteLater()
        self.app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def build(listen: str | None, open_file: str | None = None, capacity: int = 1_000_000,
          settings: QSettings | None = None, freeze_gc: bool = False,
          curve: Any = None, control: bool = True,
          control_endpoint: str | None = None) -> Monitor:
    """Create state, controller, listener thread and window, and connect them."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")  # the same look on every platform; palettes still follow the system
    state = MonitorState(capacity=capacity)
    if freeze_gc:
        # The store preallocates object columns of `capacity` slots; every full collection
        # would walk all of them (60+ ms at 1M rows, measured in bench/bench_gui.py), a
        # visible stall. They live as long as the app, so move them (and everything built
        # so far) out of the collector's sight once.
        gc.collect()
        gc.freeze()
    controller = MonitorController(state)
    follow_system_scheme(app)
    # Live control (docs/live-control.md): the rules live on the GUI thread; the listener's
    # thread owns the PUB socket that sends them, next to the data socket.
    live = LiveControl()
    sender = ControlSender(live.message) if listen and control else None
    window = MainWindow(controller, listen, settings, current_theme(), live_control=live,
                        control_sender=sender)
    # Light/dark follows the system live, not only at start (a QObject slot: Qt drops the
    # connection if the window goes away first).
    app.styleHints().colorSchemeChanged.connect(window.on_color_scheme_changed)
    listener = None
    if listen:
        make_listener = None
        if curve is not None:  # CurveZMQ for non-loopback use (monitor_gui.listener.CurveServer)
            from monitor_gui.listener import Listener

            def make_listener(endpoint: str) -> Listener:
                return Listener(endpoint, curve=curve)

        listener = ListenerThread(listen, make_listener=make_listener, control=sender,
                                  control_endpoint=control_endpoint)
        listener.worker.controlBound.connect(window.live_control.set_endpoint)
        listener.worker.controlFailed.connect(window.live_control.set_error)
        if sender is None:
            window.live_control.set_error("turned off (--no-control)")
        # Queued: the worker lives in another thread; frames are applied on the GUI thread.
        listener.worker.framesReceived.connect(controller.enqueue)
        listener.worker.bound.connect(window.status.set_endpoint)
        listener.worker.bound.connect(window.banner.set_endpoint)
        listener.worker.failed.connect(window.status.set_error)
        listener.worker.failed.connect(window.banner.set_error)
        listener.start()
    controller.start()
    if open_file:
        window.open_recording(open_file)
    return Monitor(app, state, controller, window, listener)


def run_gui(listen: str, open_file: str | None, curve: Any = None, control: bool = True,
            control_endpoint: str | None = None) -> int:
    """Open the window (listening on ``listen`` unless it is empty) and run the event loop.

    SIGINT/SIGTERM (Ctrl-C, the demo launcher) close the window without asking and exit
    with status 0; closing it by hand first offers to save unsaved live events.
    """
    # First (the CLI did it even before importing Qt): a Ctrl-C during the slow build is
    # kept for later, not raised in the middle of it.
    interrupt = stop_signals.install()
    try:
        settings = QSettings(ORGANIZATION, APPLICATION)
        monitor = build(listen or None, open_file, settings=settings, freeze_gc=True,
                        curve=curve, control=control, control_endpoint=control_endpoint)
        guard = CloseGuard(monitor.window, monitor.controller, settings)
        monitor.window.close_guard = guard

        def stop() -> None:
            guard.enabled = False  # a signal means now: no question, no modal dialog
            monitor.window.close()
            monitor.app.quit()

        interrupt.attach(stop)
        monitor.app.aboutToQuit.connect(monitor.shutdown)
        monitor.window.show()
        code = monitor.app.exec()
        guard.enabled = False
        monitor.dispose()
    finally:
        interrupt.restore()
    return 0 if interrupt.received is not None else code

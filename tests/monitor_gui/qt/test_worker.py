"""The listener thread receives from a real zmq socket and the window shows what arrived."""

from __future__ import annotations

import zmq
import zmq.auth
from PySide6.QtCore import QObject, Slot

from django_probe import wire
from monitor_gui.qt.worker import ListenerThread
from tests.monitor_gui.qt.scenario import Scenario


def test_worker_receives_from_real_socket_and_window_shows_it(qtbot, make_monitor):
    monitor = make_monitor(listen="tcp://127.0.0.1:*")
    monitor.controller.timer.start()  # the real timer-driven apply path
    worker = monitor.listener.worker
    qtbot.waitUntil(lambda: monitor.window.status.endpoint not in (None, "tcp://127.0.0.1:*"),
                    timeout=5000)
    endpoint = monitor.window.status.endpoint
    assert endpoint.startswith("tcp://127.0.0.1:") and not endpoint.endswith("*")
    assert endpoint in monitor.window.banner.label.text()
    assert monitor.window.banner.isVisibleTo(monitor.window)

    ctx = zmq.Context.instance()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    try:
        push.connect(endpoint)
        sc = Scenario()
        frames = sc.frames(5)
        for frame in frames:
            push.send(frame)
        push.send(b"\x93garbage")  # malformed: counted and shown, never a crash
        expected = sum(e[0] == wire.KIND_DISPATCH for f in frames
                       for e in wire.decode_frame(f).events)
        table = monitor.window.table_model
        qtbot.waitUntil(lambda: table.rowCount() == expected, timeout=10_000)
        qtbot.waitUntil(lambda: monitor.state.totals.malformed == 1, timeout=5000)
    finally:
        push.close(linger=0)
    assert worker.received == len(frames) + 1
    window = monitor.window
    assert len(window.timeline_data) == expected
    assert ("signal", "django.core.signals.request_started") in window.graph.nodes
    assert not window.banner.isVisibleTo(window)
    assert "1 process" in window.status.labels["processes"].text()
    assert "malformed 1" in window.status.labels["malformed"].text()


class Recorder(QObject):
    """Receives worker signals on the GUI thread (a queued connection, like the window's).

    qtbot.waitSignal would run its callback in the worker thread instead.
    """

    def __init__(self) -> None:
        super().__init__()
        self.args: list[str] = []

    @Slot(str)
    def record(self, text: str) -> None:
        self.args.append(text)


def test_bind_failure_is_reported_not_raised(qtbot):
    ctx = zmq.Context.instance()
    blocker_sock = ctx.socket(zmq.PULL)
    blocker_sock.setsockopt(zmq.LINGER, 0)
    blocker_sock.bind("tcp://127.0.0.1:*")
    taken = blocker_sock.getsockopt_string(zmq.LAST_ENDPOINT)
    thread = ListenerThread(taken)
    recorder = Recorder()
    thread.worker.failed.connect(recorder.record)
    try:
        thread.start()
        qtbot.waitUntil(lambda: bool(recorder.args), timeout=5000)
        assert "already in use" in recorder.args[0]
    finally:
        assert thread.stop()
        blocker_sock.close(linger=0)


def test_window_explains_a_bind_failure(qtbot, make_monitor):
    ctx = zmq.Context.instance()
    taken_sock = ctx.socket(zmq.PULL)
    taken_sock.setsockopt(zmq.LINGER, 0)
    taken_sock.bind("tcp://127.0.0.1:*")
    try:
        monitor = make_monitor(listen=taken_sock.getsockopt_string(zmq.LAST_ENDPOINT))
        window = monitor.window
        qtbot.waitUntil(lambda: "already in use" in window.banner.label.text(), timeout=5000)
        assert "Not listening" in window.banner.label.text()
        assert "already in use" in window.status.labels["listen"].text()
    finally:
        taken_sock.close(linger=0)


def test_stop_closes_the_socket_promptly(qtbot):
    thread = ListenerThread("tcp://127.0.0.1:*")
    recorder = Recorder()
    thread.worker.bound.connect(recorder.record)
    thread.start()
    qtbot.waitUntil(lambda: bool(recorder.args), timeout=5000)
    endpoint = recorder.args[0]
    assert thread.stop(timeout_ms=3000)
    # The port is free again: binding it succeeds.
    sock = zmq.Context.instance().socket(zmq.PULL)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.bind(endpoint)
    finally:
        sock.close(linger=0)


def test_dispose_stops_the_listener_and_destroys_the_window(qtbot):
    import shiboken6

    from monitor_gui.qt.app import build

    monitor = build("tcp://127.0.0.1:*", capacity=1_000)
    thread = monitor.listener.thread
    monitor.dispose()
    assert monitor.listener is None and thread.isFinished()
    assert not shiboken6.isValid(monitor.window)


def test_window_listens_with_curvezmq(qtbot, make_monitor, tmp_path):
    from monitor_gui.listener import CurveServer, create_keys

    keys = create_keys(tmp_path)
    curve = CurveServer(tmp_path / "server.key_secret", tmp_path / "clients")
    monitor = make_monitor(listen="tcp://127.0.0.1:*", curve=curve)
    monitor.controller.timer.start()
    qtbot.waitUntil(lambda: monitor.window.status.endpoint not in (None, "tcp://127.0.0.1:*"),
                    timeout=5000)
    ctx = zmq.Context.instance()
    push = ctx.socket(zmq.PUSH)
    push.setsockopt(zmq.LINGER, 0)
    try:  # a probe with the admitted client certificate, as SIGNAL_PROBE["CURVE_*"] sets up
        public, secret = zmq.auth.load_certificate(str(tmp_path / "client.key_secret"))
        push.curve_publickey, push.curve_secretkey = public, secret
        push.curve_serverkey = keys["server"].encode()
        push.connect(monitor.window.status.endpoint)
        frames = Scenario().frames(2)
        for frame in frames:
            push.send(frame)
        expected = sum(e[0] == wire.KIND_DISPATCH for f in frames
                       for e in wire.decode_frame(f).events)
        qtbot.waitUntil(lambda: monitor.window.table_model.rowCount() == expected,
                        timeout=10_000)
    finally:
        push.close(linger=0)

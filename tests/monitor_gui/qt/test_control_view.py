"""The Live control panel, its right-click menus and its socket, in the real window."""

from __future__ import annotations

import socket

import zmq
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QInputDialog, QToolButton

from django_probe import wire
from monitor_gui.core.control import LiveControl
from monitor_gui.core.state import MonitorState
from monitor_gui.core.wiring import GROUP
from monitor_gui.qt.control_view import RulesModel
from tests.e2e.support import free_port_pair
from tests.monitor_gui.qt.scenario import PROC, SIG

POST_SAVE = SIG + "post_save"


class FakeSender:
    """Stands in for monitor_gui.control.ControlSender: records what the panel hands it."""

    def __init__(self) -> None:
        self.offers: list = []
        self.nudges = 0

    def offer(self, make) -> None:
        self.offers.append(make)

    def nudge(self) -> None:
        self.nudges += 1


def attach(panel) -> FakeSender:
    """Give the panel a sender as if the listener thread had bound control."""
    sender = panel.sender_ = FakeSender()
    panel.set_endpoint("tcp://127.0.0.1:5600")
    return sender


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def action(menu, text: str):
    found = [a for a in menu.actions() if a.text().startswith(text)]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def test_the_rules_model_passes_the_model_tester(qtmodeltester):
    live = LiveControl()
    live.set(POST_SAVE, None, 0)
    live.set(None, "auth.User", 10)
    state = MonitorState(capacity=10)
    state.muted_counts[(POST_SAVE, "blog.Post", "send")] = [5, 0]
    model = RulesModel(live, state)
    model.reload()
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.data(model.index(1, 1)) == "5"  # (rules sorted: the sender's rule first)


def test_graph_menu_mutes_samples_and_unmutes_a_signal(qtbot, monitor, scenario, monkeypatch):
    window, panel = monitor.window, monitor.window.live_control
    sender = attach(panel)
    feed(monitor, scenario.frames(3))
    assert window._node_menu("receiver", "x") is None  # receivers are not controlled here
    menu = window._node_menu("signal", POST_SAVE)
    with qtbot.waitSignal(panel.rulesChanged):
        action(menu, "Mute post_save").trigger()
    assert panel.live.rule_for(POST_SAVE, None) == wire.Rule(POST_SAVE, None, 0)
    assert len(sender.offers) == 1
    assert wire.decode_rules(sender.offers[-1](1)).digest == panel.live.digest
    assert panel.model.rowCount() == 1
    assert panel.model.data(panel.model.index(0, 0)) == "mute post_save"
    assert POST_SAVE in panel.model.data(panel.model.index(0, 0),
                                         Qt.ItemDataRole.ToolTipRole)
    # (the scenario's process predates live control: its Hello names no control endpoint)
    assert panel.status_label.text() == "Live control: 1 rule, no process listening to control"

    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (25, True))
    action(window._node_menu("signal", POST_SAVE), "Sample 1 in N").trigger()
    assert panel.live.rule_for(POST_SAVE, None).every == 25
    action(window._node_menu("signal", POST_SAVE), "Stop sampling").trigger()
    assert len(panel.live) == 0 and panel.model.rowCount() == 0
    assert not panel.status_label.isVisible()


def test_list_menu_offers_the_signal_the_sender_and_the_pair(qtbot, monitor, scenario):
    window, panel = monitor.window, monitor.window.live_control
    feed(monitor, scenario.frames(2))
    row = window.table_model.dispatch(0)
    pos = window.table.visualRect(window.table_model.index(0, 1)).center()
    menu = window._table_menu(pos)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert any(t.startswith(f"Mute {row.sender} at") for t in texts)
    action(menu, f"Mute {row.signal.rsplit('.', 1)[-1]} from {row.sender}").trigger()
    assert panel.live.rule_for(row.signal, row.sender) is not None
    # Each rule has its remove button.
    button = panel.view.indexWidget(panel.model.index(0, 2))
    assert isinstance(button, QToolButton)
    button.click()
    assert len(panel.live) == 0


def test_signal_list_menu_mutes_the_signal_of_the_row(monitor, scenario):
    window, panel = monitor.window, monitor.window.live_control
    feed(monitor, scenario.frames(2))
    signals = window.filters.list
    index = signals.model().index(0, 0)
    name = index.data(Qt.ItemDataRole.UserRole)
    menu = window._signal_list_menu(signals.visualRect(index).center())
    action(menu, "Mute").trigger()
    assert panel.live.rule_for(name, None) == wire.Rule(name, None, 0)


def test_a_muted_sender_inside_a_collapsed_app_marks_the_app(qtbot, make_monitor, real_frames):
    monitor = make_monitor(capacity=100_000)
    window, panel = monitor.window, monitor.window.live_control
    monitor.controller.apply_now(real_frames)  # 281 senders: the graph groups them by app
    window._update_graph()
    graph = window.graph
    graph.collapse_all()
    groups = [n for n in graph.nodes.values() if n.row.kind == "sender" and n.row.role == GROUP]
    assert groups
    app = max(groups, key=lambda n: len(n.row.members))
    assert app.control_mark() is None
    panel.add_rule(None, app.row.members[0], 0)
    panel.add_rule(None, app.row.members[1], 0)

    def app_badge():
        node = next(n for n in graph.nodes.values() if n.row.key == app.row.key)
        mark = node.control_mark()
        return mark and mark.badge

    qtbot.waitUntil(lambda: app_badge() == "2 muted")
    node = next(n for n in graph.nodes.values() if n.row.key == app.row.key)
    assert f"mute everything from {app.row.members[0]}" in node.toolTip()
    graph.grab()  # the pill paints in the group row
    panel.clear_rules()
    qtbot.waitUntil(lambda: app_badge() is None)

def test_coverage_follows_heartbeats_and_a_new_process_gets_the_rules_at_once(monitor):
    panel = monitor.window.live_control
    sender = attach(panel)
    panel.add_rule(POST_SAVE, None, 0)
    hello = wire.Hello("I", 1, {"control": "tcp://127.0.0.1:5600"})
    feed(monitor, [wire.encode_frame(PROC, 0, [hello, wire.Heartbeat(
        "H", 1, 0, 0, 0, 0, 0, 10, "", 0)])])
    assert sender.nudges == 1
    assert panel.summary.text().startswith("0 of 1 processes apply 1 rule · waiting for ")
    feed(monitor, [wire.encode_frame(PROC, 2, [wire.Heartbeat(
        "H", 2, 0, 2, 0, 0, 0, 10, panel.live.digest, 4)])])
    assert panel.summary.text().startswith("1 of 1 processes apply 1 rule")
    assert "1 of 1 processes apply 1 rule" in panel.status_label.text()


def test_the_listener_thread_publishes_the_rules_next_to_the_data_endpoint(qtbot,
                                                                           make_monitor):
    port = free_port_pair()
    monitor = make_monitor(listen=f"tcp://127.0.0.1:{port}")
    panel = monitor.window.live_control
    control = f"tcp://127.0.0.1:{port + 1}"
    qtbot.waitUntil(lambda: panel.endpoint == control, timeout=5000)
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(control)
    try:
        panel.add_rule(POST_SAVE, "auth.User", 0)
        got: list = []

        def received() -> bool:
            while sub.poll(0):
                got.append(wire.decode_rules(sub.recv()))
            return any(m.digest == panel.live.digest for m in got)

        qtbot.waitUntil(received, timeout=10_000)  # sent again every 2 s at the latest
    finally:
        sub.close(linger=0)


def test_a_taken_control_port_leaves_the_window_listening(qtbot, make_monitor):
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        taken.listen()
        monitor = make_monitor(listen=f"tcp://127.0.0.1:{port}")
        panel = monitor.window.live_control
        qtbot.waitUntil(lambda: panel.error is not None and "cannot listen" in panel.error,
                        timeout=5000)
        assert panel.summary.text().startswith("Live control is off")
        qtbot.waitUntil(lambda: monitor.window.status.endpoint == f"tcp://127.0.0.1:{port}",
                        timeout=5000)


def test_a_window_without_a_listener_says_control_is_off_and_hides_the_panel(monitor):
    window = monitor.window
    assert window.live_control.summary.text() == "Live control is off: not listening"
    dock = window.findChild(QDockWidget, "dock-live control")
    assert dock is not None and not dock.isVisibleTo(window)


def test_no_control_says_so(qtbot):
    from monitor_gui.qt.app import build

    monitor = build(f"tcp://127.0.0.1:{free_port_pair()}", settings=None, control=False)
    qtbot.addWidget(monitor.window)
    try:
        assert monitor.window.live_control.summary.text() == \
            "Live control is off: turned off (--no-control)"
    finally:
        monitor.shutdown()


def test_the_graph_marks_what_the_rules_mute_or_sample(qtbot, monitor, scenario):
    window, panel = monitor.window, monitor.window.live_control
    feed(monitor, scenario.frames(3))
    window._update_graph()

    def node(kind: str, name: str):
        return next((n for n in window.graph.nodes.values()
                     if n.row.kind == kind and n.row.label == name), None)

    def badge(kind: str, name: str):
        mark = node(kind, name).control_mark()
        return mark and mark.badge

    qtbot.waitUntil(lambda: node("signal", POST_SAVE) is not None)
    assert badge("signal", POST_SAVE) is None
    panel.add_rule(POST_SAVE, None, 0)
    qtbot.waitUntil(lambda: badge("signal", POST_SAVE) == "muted")
    assert "at the probes: mute post_save" in node("signal", POST_SAVE).toolTip()
    window.graph.grab()  # the pill paints in the node (no exception, nothing cut)
    panel.add_rule(POST_SAVE, None, 4)
    qtbot.waitUntil(lambda: badge("signal", POST_SAVE) == "1 in 4")
    sender = next(n.row.label for n in window.graph.nodes.values() if n.row.kind == "sender")
    panel.add_rule(None, sender, 0)
    qtbot.waitUntil(lambda: badge("sender", sender) == "muted")
    panel.clear_rules()
    qtbot.waitUntil(lambda: badge("signal", POST_SAVE) is None and badge("sender", sender) is None)

"""The graph view: nodes/edges from the core graph, styling, flash, click, filter, export."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from monitor_gui.qt.graph_view import colour_of
from tests.monitor_gui.qt.scenario import AUTH, CORE, SIG


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def test_events_create_nodes_and_edges(monitor, scenario):
    graph = monitor.window.graph
    assert not graph.nodes
    feed(monitor, scenario.frames(4))
    assert ("sender", "auth.User") in graph.nodes
    assert ("signal", SIG + "post_save") in graph.nodes
    assert ("receiver", "accounts.receivers.create_profile") in graph.nodes
    edge = graph.edges[("signal->receiver", SIG + "post_save", "accounts.receivers.create_profile")]
    assert edge.count == 12  # 3 post_saves per request (2 direct + 1 nested) x 4
    # Three layered columns, left to right.
    xs = {kind: {n.pos().x() for (k, _), n in graph.nodes.items() if k == kind}
          for kind in ("sender", "signal", "receiver")}
    assert max(xs["sender"]) < min(xs["signal"]) and max(xs["signal"]) < min(xs["receiver"])


def test_edge_width_grows_with_count_and_errors_are_red(monitor, scenario):
    feed(monitor, scenario.frames(14))  # requests 7 and 14 raise in the audit receiver
    graph = monitor.window.graph
    busy = graph.edges[("signal->receiver", SIG + "post_save", "accounts.receivers.create_profile")]
    quiet = graph.edges[("signal->receiver", AUTH + "user_logged_in",
                         "django.contrib.auth.models.update_last_login")]
    assert busy.count > quiet.count
    for e in graph.edges.values():
        e.heat = 0.0
        e.refresh()
    assert busy.pen().widthF() > quiet.pen().widthF()
    failing = graph.edges[("signal->receiver", AUTH + "user_logged_in",
                           "accounts.audit.AuditLog.on_login")]
    assert failing.errors == 2
    red = colour_of(failing)
    assert red.red() > red.green() + 60
    plain = colour_of(quiet)
    assert abs(plain.red() - plain.green()) < 40


def test_never_fired_receivers_from_topology_are_dimmed(monitor, scenario):
    feed(monitor, scenario.frames(2))
    graph = monitor.window.graph
    ghost = graph.nodes[("receiver", "accounts.receivers.purge_avatar")]
    live = graph.nodes[("receiver", "accounts.receivers.create_profile")]
    assert ghost.known_only and not live.known_only
    edge = graph.edges[("signal->receiver", SIG + "post_delete", "accounts.receivers.purge_avatar")]
    assert edge.pen().style() == Qt.PenStyle.DashLine
    assert "never fired" in ghost.toolTip()


def test_fired_edges_flash_then_fade(qtbot, monitor, scenario):
    feed(monitor, scenario.frames(1))
    graph = monitor.window.graph
    hot = set(graph.hot_edges())
    assert ("sender->signal", "auth.User", SIG + "pre_save") in hot
    qtbot.waitUntil(lambda: not graph.hot_edges(), timeout=5000)
    feed(monitor, [scenario.frame(scenario.request())])
    assert graph.hot_edges()


def test_hover_tooltips_have_the_top_tables_figures(qtbot, monitor, scenario):
    from monitor_gui.core.stats import stats_for
    from monitor_gui.qt.models import clock

    window = monitor.window
    window.show()
    qtbot.waitExposed(window)
    feed(monitor, scenario.frames(3))
    graph = window.graph
    edge = graph.edges[("sender->signal", "auth.User", AUTH + "user_logged_in")]
    assert edge.toolTip() == ""  # made when the pointer reaches it
    point = graph.mapFromScene(edge.path().pointAtPercent(0.5))
    assert graph.itemAt(point) is edge
    QApplication.sendEvent(graph.viewport(), QMouseEvent(
        QEvent.Type.MouseMove, QPointF(point), QPointF(graph.viewport().mapToGlobal(point)),
        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: edge.toolTip() != "")
    tip = edge.toolTip()
    want = stats_for(monitor.state, "sender->signal", "auth.User", AUTH + "user_logged_in")
    assert want.calls == 3
    for label in ("calls", "p50", "p95", "max", "last seen"):
        assert label in tip
    assert clock(want.last_ts) in tip
    node = graph.nodes[("signal", AUTH + "user_logged_in")]
    assert "3 dispatches" in node.toolTip()


def test_clicking_a_node_emits_and_filters(qtbot, monitor, scenario):
    window = monitor.window
    window.show()
    feed(monitor, scenario.frames(3))
    graph = window.graph
    item = graph.nodes[("signal", SIG + "pre_save")]
    pos = graph.mapFromScene(item.sceneBoundingRect().center())
    with qtbot.waitSignal(graph.nodeClicked) as blocker:
        qtbot.mouseClick(graph.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos))
    assert blocker.args == ["signal", SIG + "pre_save"]
    # The list and timeline show only pre_save; the graph focuses it: its senders and
    # receivers lit, the rest of the wiring still drawn but faded.
    assert window.signal_model.checked_signals() == frozenset({SIG + "pre_save"})
    assert window.table_model.rowCount() == 6
    assert graph.focus == ("signal", SIG + "pre_save")
    assert graph.is_node_visible("signal", CORE + "request_started")
    assert graph.is_dimmed("signal", CORE + "request_started")
    assert not graph.is_dimmed("sender", "sessions.Session")
    assert not graph.is_dimmed("signal", SIG + "pre_save")
    assert graph.is_dimmed("receiver", "accounts.receivers.create_profile")
    assert "pre_save" in window.graph_panel.crumb.text()
    # Esc leaves the focus: nothing faded, every signal shown again.
    assert window.leave_focus_action.shortcut().toString() == "Esc"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(graph.viewport(), Qt.Key.Key_Escape)
    assert graph.focus is None and window.signal_model.checked_signals() is None
    assert not any(graph.is_dimmed(k, n) for k, n in graph.nodes)
    assert "All signals" in window.graph_panel.crumb.text()


def test_zoom_and_fit(monitor, scenario):
    feed(monitor, scenario.frames(2))
    graph = monitor.window.graph
    before = graph.transform().m11()
    graph.zoom(2.0)
    assert graph.transform().m11() == 2 * before and graph.user_zoomed
    graph.user_zoomed = False
    graph.fit_all()
    assert graph.transform().m11() == 1.0  # a small graph is shown at 100 %, never blown up


def test_export_png_and_svg(tmp_path, monitor, scenario):
    feed(monitor, scenario.frames(2))
    graph = monitor.window.graph
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    assert graph.export(str(png)) and graph.export(str(svg))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "post_save" in text


def test_sixty_signals_stay_in_columns_without_overlap_and_fit(monitor):
    from django_probe import wire
    from tests.monitor_gui.qt.scenario import PROC, receiver

    events = []
    for i in range(60):
        events.append(wire.Dispatch(
            "D", 1_000 + i, i + 1, None, f"app{i % 7}.signals.sig_{i}", f"app.Model{i % 20}",
            "send", 1000, "MainThread", 1, None, None, {},
            [receiver(f"handler_{i}", f"app{i % 5}.receivers", 500)], False, None))
    monitor.window.resize(1600, 1000)
    monitor.window.show()
    feed(monitor, [wire.encode_frame(PROC, 0, events)])
    graph = monitor.window.graph
    for kind in ("sender", "signal", "receiver"):
        rects = sorted((n.sceneBoundingRect() for (k, _), n in graph.nodes.items() if k == kind),
                       key=lambda r: r.top())
        assert all(a.bottom() <= b.top() for a, b in zip(rects, rects[1:]))
        assert len(rects) <= graph.row_budget()
    assert graph.transform().m11() == 1.0
    # The 60 signals that do not fit fold into one "+N more signals" row, which opens.
    fold = graph.nodes[("signal", "signal+*")]
    assert fold.row.label.startswith("+") and fold.row.label.endswith("more signals")
    graph.row_clicked(fold.row)
    assert sum(1 for k, _ in graph.nodes if k == "signal") == 60


def test_process_outcome_and_node_filters_dim_unused_graph_parts(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(7))  # request 7 fails in AuditLog.on_login
    graph = window.graph
    window.filters.outcome.setCurrentIndex(1)  # errors only: the failing user_logged_in
    assert not graph.is_dimmed("signal", AUTH + "user_logged_in")
    assert not graph.is_dimmed("receiver", "accounts.audit.AuditLog.on_login")
    assert graph.is_dimmed("signal", SIG + "pre_save")
    assert graph.is_dimmed("receiver", "accounts.receivers.stamp_updated")
    used = graph.edges[("signal->receiver", AUTH + "user_logged_in",
                        "accounts.audit.AuditLog.on_login")]
    unused = graph.edges[("sender->signal", "sessions.Session", SIG + "pre_save")]
    assert used.opacity() == 1.0 and unused.opacity() < 0.5
    window.filters.outcome.setCurrentIndex(0)
    assert not any(graph.is_dimmed(k, n) for k, n in graph.nodes)
    window.on_node_clicked("sender", "sessions.Session")  # a focus: its neighbourhood lit
    assert not graph.is_dimmed("signal", SIG + "post_save")
    assert graph.is_dimmed("signal", AUTH + "user_logged_in")
    assert not graph.is_dimmed("receiver", "articles.cache.invalidate_cache")


def test_dimming_follows_live_rows(monkeypatch, monitor, scenario):
    import monitor_gui.qt.window as window_module

    window = monitor.window
    feed(monitor, scenario.frames(3))  # no failures yet
    window.filters.outcome.setCurrentIndex(1)  # errors only: nothing matches
    assert window.graph.is_dimmed("receiver", "accounts.audit.AuditLog.on_login")
    clock = [window_module.time.monotonic() + 5]  # pretend a second has passed
    monkeypatch.setattr(window_module.time, "monotonic", lambda: clock[0])
    feed(monitor, [scenario.frame(scenario.request(fail=True))])
    assert not window.graph.is_dimmed("receiver", "accounts.audit.AuditLog.on_login")
    assert window.graph.is_dimmed("signal", SIG + "pre_save")

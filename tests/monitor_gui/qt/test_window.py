"""The main window: one filter drives graph, timeline and list; details; pause; clear."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from monitor_gui.core.query import Filter
from tests.monitor_gui.qt.scenario import AUTH, CORE, SIG


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def table_signals(window) -> set[str]:
    model = window.table_model
    return {model.dispatch(r).signal for r in range(model.rowCount())}


def timeline_signals(window) -> set[str]:
    data = window.timeline_data
    return {data.name_of(int(s)) for s in data.signal[data.lo:data.hi]}


def test_synthetic_events_fill_all_three_views(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(6))
    stored = len(monitor.state.store)
    assert window.table_model.rowCount() == stored
    assert len(window.timeline_data) == stored
    assert window.timeline_data.lane_names  # one lane per signal
    assert {"signal", "sender", "receiver"} == {k for k, _ in window.graph.nodes}
    assert f"{stored:,} dispatches" in window.status.labels["total"].text()


def test_signal_filter_changes_graph_timeline_and_list(qtbot, monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(5))
    everything = table_signals(window)
    assert len(everything) == 6
    only = {SIG + "post_save", AUTH + "user_logged_in"}
    with qtbot.waitSignal(monitor.controller.filterChanged):
        window.signal_model.set_checked(only)
    assert table_signals(window) == only
    assert timeline_signals(window) == only
    assert window.table_model.rowCount() == 5 * 3 + 5
    assert window.graph.is_node_visible("signal", SIG + "post_save")
    assert not window.graph.is_node_visible("signal", CORE + "request_started")
    # New traffic respects the filter too (the incremental path, not a reset).
    resets = []
    window.table_model.modelReset.connect(lambda: resets.append(1))
    feed(monitor, [scenario.frame(scenario.request())])
    assert table_signals(window) == only and not resets
    assert window.table_model.rowCount() == 6 * 4
    window.signal_model.set_checked(None)
    assert table_signals(window) == everything
    assert len(window.timeline_data) == len(monitor.state.store)


def test_outcome_and_process_filters(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(14))
    window.filters.outcome.setCurrentIndex(1)  # errors only
    model = window.table_model
    assert model.rowCount() == 2 and all(model.dispatch(r).error for r in range(2))
    window.filters.outcome.setCurrentIndex(2)  # slow only (>= 100 ms): request 11 is slow
    assert model.rowCount() == 1 and model.dispatch(0).dur >= 100_000_000
    window.filters.outcome.setCurrentIndex(0)
    label = next(iter(monitor.state.processes.values())).label
    window.filters.process.setCurrentText(label)
    assert model.rowCount() == len(monitor.state.store)
    window.apply_filter(Filter(processes=frozenset({"nobody:1"})))
    assert model.rowCount() == 0 and len(window.timeline_data) == 0


def test_sender_node_click_filters_by_sender(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    window.on_node_clicked("sender", "sessions.Session")
    model = window.table_model
    assert {model.dispatch(r).sender for r in range(model.rowCount())} == {"sessions.Session"}
    assert window.filters.node_chip.text().endswith("sessions.Session")
    window.on_node_clicked("sender", "sessions.Session")  # again: cleared
    assert model.rowCount() == len(monitor.state.store)


def test_selecting_a_row_fills_the_details(qtbot, monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(7))
    model = window.table_model
    failing = next(r for r in range(model.rowCount())
                   if model.dispatch(r).signal == AUTH + "user_logged_in"
                   and model.dispatch(r).raised)
    with qtbot.waitSignal(window.rowSelected) as blocker:
        window.table.selectRow(failing)
    assert blocker.args == [model.absolute_row(failing)]
    html = window.details.toPlainText()
    for text in ("user_logged_in", "auth.User", "update_last_login", "AuditLog.on_login",
                 "accounts.audit.AuditError", "boom: audit db down", "skipped",
                 "/app/accounts/views.py:31", "login_view", "<User: alice>",
                 "POST /accounts/login/", "children: post_save"):
        assert text in html, text
    # Following the child link selects the nested post_save.
    child = monitor.state.store.row(model.absolute_row(failing)).children[0]
    window.details.rowRequested.emit(child)
    assert window.details.current == child
    assert model.absolute_row(window.table.currentIndex().row()) == child
    assert "parent: user_logged_in" in window.details.toPlainText()


def test_timeline_click_selects_in_table(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(2))
    row = monitor.state.store.first + 3
    window.timeline.dispatchClicked.emit(row)
    assert window.table_model.absolute_row(window.table.currentIndex().row()) == row
    assert window.details.current == row


def test_pause_holds_frames_until_resume(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(2))
    before = window.table_model.rowCount()
    window.pause_action.trigger()
    assert monitor.controller.paused and window.pause_action.text() == "Resume"
    feed(monitor, [scenario.frame(scenario.request())])
    assert window.table_model.rowCount() == before
    assert "paused" in window.status.labels["paused"].text()
    window.pause_action.trigger()
    monitor.controller.drain()
    assert window.table_model.rowCount() > before
    assert window.status.labels["paused"].text() == ""


def test_clear_empties_every_view(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    window.clear_action.trigger()
    assert window.table_model.rowCount() == 0
    assert len(window.timeline_data) == 0
    assert not window.graph.nodes
    assert window.signal_model.rowCount() == 0
    assert window.filters.process.count() == 1  # only "All processes" is left
    feed(monitor, scenario.frames(1))
    assert window.table_model.rowCount() == len(monitor.state.store) > 0


def test_lane_modes(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    window.lanes.setCurrentText("Lanes: request")
    assert len(window.timeline_data.lane_names) == 3
    assert window.timeline_data.lane_names[0] == "POST /accounts/login/ · req-1"
    window.lanes.setCurrentText("Lanes: thread")
    assert window.timeline_data.lane_names == ["MainThread"]
    assert len(window.timeline_data) == len(monitor.state.store)


def test_window_state_is_remembered(tmp_path, qtbot, make_monitor):
    from monitor_gui.qt.window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    monitor = make_monitor()
    first = MainWindow(monitor.controller, None, settings)
    qtbot.addWidget(first)
    first.resize(700, 500)  # within the 800x600 offscreen screen
    first.lanes.setCurrentText("Lanes: thread")
    first.close()
    second = MainWindow(monitor.controller, None, settings)
    qtbot.addWidget(second)
    assert second.lanes.currentText() == "Lanes: thread"
    assert (second.width(), second.height()) == (700, 500)


def test_keyboard_shortcuts(qtbot, monitor, scenario):
    from PySide6.QtCore import Qt

    window = monitor.window
    window.show()
    qtbot.waitExposed(window)
    window.windowHandle().requestActivate()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts only reach the active window
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert monitor.controller.paused
    qtbot.keyClick(window.table, Qt.Key.Key_Space)
    assert not monitor.controller.paused
    feed(monitor, scenario.frames(2))
    qtbot.keyClick(window.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.table_model.rowCount() == 0
    shortcuts = {a.text(): a.shortcut().toString() for a in window.actions()}
    assert shortcuts["Export graph…"] == "Ctrl+E" and shortcuts["Open…"] == "Ctrl+O"


def test_dark_palette_switches_every_custom_view(qtbot, monitor, scenario):
    from PySide6.QtWidgets import QApplication

    from monitor_gui.qt.theme import DARK, LIGHT, current_theme, dark_palette

    window = monitor.window
    feed(monitor, scenario.frames(2))
    app = QApplication.instance()
    original = app.palette()
    try:
        app.setPalette(dark_palette())
        assert current_theme() is DARK
        window.on_color_scheme_changed(None)  # what the system's scheme change triggers
        assert window.graph.backgroundBrush().color() == DARK.background
        assert window.timeline.theme is DARK and window.details.theme is DARK
        image = window.timeline.grab().toImage()
        assert image.pixelColor(image.width() - 2, image.height() - 2).lightness() < 80
    finally:
        app.setPalette(original)
    window.apply_theme(current_theme())
    assert window.graph.backgroundBrush().color() == LIGHT.background


def test_untrusted_names_are_never_rendered_as_html(monitor):
    from django_probe import wire
    from tests.monitor_gui.qt.scenario import PROC, receiver

    evil = "<img src='file:///etc/passwd'><b>x</b>"
    event = wire.Dispatch("D", 1_000, 1, None, evil, evil, "send", 5, "T", 1, None,
                          wire.RequestInfo("r", "GET", evil), {evil: evil},
                          [receiver(evil, "mod", 3)], False, None)
    feed(monitor, [wire.encode_frame(PROC, 0, [event])])
    window = monitor.window
    for edge in window.graph.edges.values():
        edge.update_tooltip()  # what a hover makes
    tips = [item.toolTip() for item in [*window.graph.nodes.values(),
                                        *window.graph.edges.values()]]
    model = window.table_model
    tips += [model.index(0, c).data(3) for c in range(model.columnCount())]  # ToolTipRole
    tips.append(window.signal_model.index(0, 0).data(3))
    window.select_row(monitor.state.store.first)
    tips.append(window.details.toHtml())
    for tip in tips:
        assert "<img" not in tip, tip
    assert any("&lt;img" in tip for tip in tips)
    assert evil in window.details.toPlainText()  # shown literally


def test_shortcuts_help_lists_every_action(monitor):
    text = monitor.window.shortcuts_text()
    for action in ("Pause", "Clear", "Open", "Save", "Export graph", "Fit graph",
                   "Follow live", "Find", "Leave focus", "Esc", "Ctrl+E", "Shift+wheel"):
        assert action in text


def test_slow_threshold_restyles_graph_edges(monitor, scenario):
    window = monitor.window
    feed(monitor, scenario.frames(3))
    edge = window.graph.edges[("signal->receiver", AUTH + "user_logged_in",
                               "accounts.audit.AuditLog.on_login")]
    for e in window.graph.edges.values():
        e.heat = 0.0
    window.filters.slow_ms.setValue(1000)
    normal = edge.pen().color()
    window.filters.slow_ms.setValue(1)  # 1 ms: the ~0.5 ms audit receiver is still fast
    assert edge.pen().color() == normal
    slow_edge = window.graph.edges[("sender->signal", "auth.User", AUTH + "user_logged_in")]
    assert slow_edge.edge.total_ns / slow_edge.edge.total >= 1_000_000  # logins take >= 1 ms
    from monitor_gui.qt.theme import LIGHT

    assert slow_edge.pen().color().rgb() == LIGHT.slow.rgb()


def test_banner_says_how_to_connect(qtbot):
    from django_probe import wire
    from monitor_gui.qt.status import Banner

    banner = Banner(wire.DEFAULT_ENDPOINT)
    text = banner.label.text()
    assert "INSTALLED_APPS" in text and "django_probe" in text and "by itself" in text
    banner.set_endpoint("tcp://127.0.0.1:6000")
    text = banner.label.text()
    assert "SIGNAL_PROBE_ENDPOINT=tcp://127.0.0.1:6000" in text and "ENDPOINT" in text
    banner.set_endpoint(None)
    assert "Not listening" in banner.label.text()


def test_depth_learned_later_reaches_table_and_timeline(monitor):
    """A grandchild shown before its parent arrived is re-indented once the parent comes."""
    from django_probe import wire
    from tests.monitor_gui.qt.scenario import PROC

    def dispatch(did: int, parent: int | None, ts: int) -> wire.Dispatch:
        return wire.Dispatch(wire.KIND_DISPATCH, ts, did, parent, SIG + "post_save", "auth.User",
                             "send", 1_000, "MainThread", 1, None, None, {}, [], False, None)

    # The probe emits a dispatch when it ends: grandchild, then child, then root.
    feed(monitor, [wire.encode_frame(PROC, 0, [dispatch(3, 2, 1_000_300)])])
    window, grandchild = monitor.window, monitor.state.store.first
    window.table_model.data(window.table_model.index(0, 1))  # painted (and cached) at depth 1
    feed(monitor, [wire.encode_frame(PROC, 1, [dispatch(2, 1, 1_000_200)])])
    feed(monitor, [wire.encode_frame(PROC, 2, [dispatch(1, None, 1_000_100)])])
    assert monitor.state.store.row(grandchild).depth == 2
    model = window.table_model  # now listed parent first: root, child, grandchild
    assert [model.absolute_row(r) for r in range(3)] == [grandchild + 2, grandchild + 1,
                                                         grandchild]
    assert model.line(2).depth == 2
    assert model.data(model.index(2, 1)) == "   └ post_save"
    data = window.timeline_data
    assert int(data.depth[data.lo]) == 2
    assert data.lane_depth[data.lane[data.lo]] == 2
    assert data.drow[data.lo] == data.display_row(data.lo)


def test_clear_forgets_rows_waiting_for_graph_dimming(monitor, scenario):
    window = monitor.window
    window.apply_filter(Filter(processes=frozenset({"devbox:4242"})))  # a dimming filter
    feed(monitor, scenario.frames(14))  # rows queue up for the once-a-second dimming pass
    window.clear_action.trigger()  # absolute rows start again at 0
    feed(monitor, scenario.frames(1))
    window._dimmed_at = 0.0  # the next tick may dim
    window._update_dimming()
    assert window.graph._counts == window._counts
    assert window._counts == {(e.kind, e.src, e.dst): e.count
                              for e in monitor.state.graph.edges() if e.count}


def test_thread_lanes_name_live_threads_after_evictions(make_monitor):
    from tests.monitor_gui.core.events import dispatch, frame

    monitor = make_monitor(capacity=40)
    names = [f"Thread-{i // 2} (process_request_thread)" for i in range(400)]
    feed(monitor, [frame([dispatch(i, thread=names[i]) for i in range(s, s + 20)], seq=s)
                   for s in range(0, 400, 20)])
    store = monitor.state.store
    assert len(store.threads) <= 40 and len(monitor.state.strings) < 40
    monitor.window.lanes.setCurrentText("Lanes: thread")
    live = list(dict.fromkeys(names[store.first:store.end]))
    assert monitor.window.timeline_data.lane_names == live


def test_one_slow_threshold_marks_the_demos_slow_receiver_everywhere(monitor):
    """The demo's indexer takes 30-80 ms: slow by default in the graph, list and details."""
    from django_probe import wire
    from monitor_gui.core.query import DEFAULT_SLOW_MS
    from monitor_gui.qt.theme import LIGHT
    from tests.monitor_gui.qt.scenario import PROC, receiver

    indexer = receiver("reindex_article", "articles.receivers", 30_000_000)
    event = wire.Dispatch("D", 1_000, 1, None, SIG + "post_save", "articles.Article", "send",
                          31_000_000, "MainThread", 1, None, None, {}, [indexer], False, None)
    feed(monitor, [wire.encode_frame(PROC, 0, [event])])
    window = monitor.window
    assert window.filters.slow_ms.value() == DEFAULT_SLOW_MS <= 30
    edge = window.graph.edges[("signal->receiver", SIG + "post_save",
                               "articles.receivers.reindex_article")]
    edge.heat = 0.0
    edge.refresh()
    assert edge.pen().color().rgb() == LIGHT.slow.rgb()
    assert any(f"≥ {DEFAULT_SLOW_MS:g} ms" in text for _, text in window.graph.legend())
    model = window.table_model
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole) == window.theme.slow
    window.select_row(monitor.state.store.first)
    assert "class='slow'" in window.details.render_html(monitor.state.store.row(0))
    window.filters.slow_ms.setValue(100)  # one setting moves every view
    edge.refresh()
    assert edge.pen().color().rgb() != LIGHT.slow.rgb()
    assert any("≥ 100 ms" in text for _, text in window.graph.legend())
    assert model.index(0, 4).data(Qt.ItemDataRole.ForegroundRole) is None
    assert "class='slow'" not in window.details.render_html(monitor.state.store.row(0))


def test_a_busy_stream_redraws_the_graph_at_most_every_quarter_second(qtbot, monitor,
                                                                     scenario):
    from monitor_gui.qt import window as window_module

    window, graph = monitor.window, monitor.window.graph
    feed(monitor, scenario.frames(2))
    before = graph.edges[("signal->receiver", SIG + "post_save",
                          "accounts.receivers.create_profile")].count
    monitor.controller.rate = 50_000.0  # as the rate timer reports under a flood
    window._graph_at = window_module.time.monotonic()  # the graph was just redrawn
    feed(monitor, scenario.frames(2))
    edge = graph.edges[("signal->receiver", SIG + "post_save",
                        "accounts.receivers.create_profile")]
    assert edge.count == before and window._graph_timer.isActive()  # not yet...
    qtbot.waitUntil(lambda: graph.edges[("signal->receiver", SIG + "post_save",
                                         "accounts.receivers.create_profile")].count > before,
                    timeout=5000)  # ...but soon, without another tick
    monitor.controller.rate = 0.0  # quiet again: each change at once
    feed(monitor, scenario.frames(1))
    assert not window._graph_timer.isActive()

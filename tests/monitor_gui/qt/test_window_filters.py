"""The main window's filters and selection: one filter drives graph, timeline and list; details."""

from __future__ import annotations

from monitor_gui.core.query import Filter
from tests.monitor_gui.qt.scenario import AUTH, CORE, SIG, feed, table_signals, timeline_signals


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

"""The Qt models: qtmodeltester, incremental inserts/evictions, signal check states."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.monitor_gui.qt.scenario import Scenario


def feed(monitor, frames) -> None:
    monitor.controller.enqueue(frames)
    monitor.controller.drain()


def test_dispatch_table_passes_modeltester(qtmodeltester, monitor, scenario):
    feed(monitor, scenario.frames(10))
    model = monitor.window.table_model
    assert model.rowCount() == len(monitor.state.store) > 0
    qtmodeltester.check(model, force_py=True)
    # Keep checking while rows stream in: the tester hooks the insert signals.
    feed(monitor, [scenario.frame(scenario.request())])
    qtmodeltester.check(model, force_py=True)


def test_table_rows_follow_appends_and_evictions_without_reset(qtmodeltester, make_monitor):
    monitor = make_monitor(capacity=50)
    model = monitor.window.table_model
    qtmodeltester.check(model, force_py=True)
    resets, inserted, removed = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda p, a, b: inserted.append(b - a + 1))
    model.rowsRemoved.connect(lambda p, a, b: removed.append(b - a + 1))
    sc = Scenario(seed=3)
    for _ in range(20):
        feed(monitor, [sc.frame(sc.request())])
        store = monitor.state.store
        assert model.rowCount() == len(store)
        # Row 0 is always the oldest stored dispatch, the last row the newest.
        assert model.absolute_row(0) == store.first
        assert model.absolute_row(model.rowCount() - 1) == store.end - 1
        timeline = monitor.window.timeline_data
        assert timeline.rows[timeline.lo:timeline.hi].tolist() == list(
            range(store.first, store.end))
    assert not resets
    assert sum(inserted) == monitor.state.totals.dispatches
    assert sum(removed) == monitor.state.totals.dispatches - len(monitor.state.store) > 0


def test_table_cells_show_the_dispatch(monitor, scenario):
    feed(monitor, scenario.frames(7))  # request 7 fails in the scenario
    model = monitor.window.table_model
    texts = [[model.index(r, c).data() for c in range(model.columnCount())]
             for r in range(model.rowCount())]
    login = [t for t in texts if t[1] == "user_logged_in"]
    assert len(login) == 7
    assert login[0][2] == "auth.User"
    assert login[0][3] == "3"
    assert login[0][6] == "POST /accounts/login/"
    assert sum(t[5] == "raised" for t in login) == 1
    assert sum(t[5] == "receiver error" for t in texts) == 0
    nested = [t for t in texts if t[1] == "└ post_save"]  # depth 1 is indented
    assert len(nested) == 7


def test_signal_list_passes_modeltester_and_counts_live(qtmodeltester, monitor, scenario):
    model = monitor.window.signal_model
    qtmodeltester.check(model, force_py=True)
    feed(monitor, scenario.frames(5))
    qtmodeltester.check(model, force_py=True)
    names = {model.index(r, 0).data(Qt.ItemDataRole.UserRole): r
             for r in range(model.rowCount())}
    assert "django.db.models.signals.post_save" in names
    assert "django.db.models.signals.post_delete" in names  # known from the topology only
    row = names["django.contrib.auth.signals.user_logged_in"]
    assert model.index(row, 1).data() == "5"
    changed = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), b.row())))
    feed(monitor, [scenario.frame(scenario.request())])
    assert model.index(row, 1).data() == "6"
    assert changed


def test_signal_check_states_build_the_filter(monitor, scenario):
    feed(monitor, scenario.frames(3))
    model = monitor.window.signal_model
    assert model.checked_signals() is None  # all checked = no signal filter
    first = model.index(0, 0)
    assert first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert model.setData(first, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert first.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert model.checked_signals() == frozenset(model.names) - {model.names[0]}
    model.set_checked({"django.db.models.signals.pre_save"})
    assert model.checked_signals() == frozenset({"django.db.models.signals.pre_save"})
    model.set_checked(None)
    assert model.checked_signals() is None

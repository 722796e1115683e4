"""The Top table: qtmodeltester, stable rows, numeric sorting, and clicking a row to filter."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from monitor_gui.core.graph import SENDER_TO_SIGNAL, SIGNAL_TO_RECEIVER
from monitor_gui.core.query import Filter
from monitor_gui.core.stats import edge_stats
from monitor_gui.qt.controller import MonitorController
from monitor_gui.qt.stats_view import (
    CALLS,
    LAST,
    P95,
    RATE,
    SORT_ROLE,
    StatsModel,
    StatsView,
    edge_tooltip,
)

POST_SAVE = "django.db.models.signals.post_save"


def column(model, col: int, role=Qt.ItemDataRole.DisplayRole) -> list:
    return [model.data(model.index(r, col), role) for r in range(model.rowCount())]


def test_model_passes_modeltester_through_inserts_updates_and_resets(qtmodeltester, real_state):
    model = StatsModel()
    qtmodeltester.check(model, force_py=True)  # keeps checking every change from here on
    resets, inserted = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda p, a, b: inserted.append(b - a + 1))
    half = np.arange(real_state.store.first, real_state.store.end // 2)
    partial = edge_stats(real_state, half)
    model.set_table(partial)  # from empty: inserted
    before = [model.key(r) for r in range(model.rowCount())]
    whole = edge_stats(real_state)
    model.set_table(whole)  # only new edges: inserted after the rows already shown
    assert resets == [] and inserted == [len(partial), len(whole) - len(partial)]
    assert [model.key(r) for r in range(len(before))] == before
    for r in range(model.rowCount()):
        assert model.data(model.index(r, CALLS), SORT_ROLE) == whole.stats_for(
            *model.key(r)).calls
    model.set_table(partial)  # edges went away: a reset
    assert resets == [1] and model.rowCount() == len(partial)
    model.set_table(partial)  # the same edges again: updated in place
    assert resets == [1]


@pytest.mark.parametrize("col", [CALLS, RATE, P95, LAST])
def test_sorting_is_numeric_not_by_text(qtbot, real_state, col):
    view = StatsView(MonitorController(real_state))
    qtbot.addWidget(view)
    view.refresh()
    view.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    proxy = view.proxy
    values = column(proxy, col, SORT_ROLE)
    texts = column(proxy, col)
    assert len(set(values)) > 3
    assert values == sorted(values, reverse=True)
    # The text alone would order them differently ("9.0" > "10.5", "950 ns" > "1.2 ms").
    assert sorted(texts, reverse=True) != texts


def test_tooltip_shows_the_rows_figures(real_state):
    table = edge_stats(real_state)
    s = table.stats(int(np.argmax(table.calls)))
    text = edge_tooltip(s)
    assert f"{s.calls:,}" in text and f"{s.rate:.1f}" in text


def test_the_table_follows_live_traffic(qtbot, make_monitor, real_frames):
    monitor = make_monitor(capacity=100_000)
    window = monitor.window
    window.show()
    qtbot.waitExposed(window)
    window.bottom_tabs.setCurrentWidget(window.top)
    model = window.top.model
    half = len(real_frames) // 2
    monitor.controller.apply_now(real_frames[:half])
    senders = lambda: int(model.table.calls[model.table.kind == 0].sum())  # noqa: E731
    qtbot.waitUntil(lambda: senders() == len(monitor.state.store) > 0)
    monitor.controller.apply_now(real_frames[half:])
    qtbot.waitUntil(lambda: senders() == len(monitor.state.store), timeout=10_000)
    assert len(monitor.state.store) == monitor.state.totals.dispatches


def click_row(qtbot, view, key) -> None:
    r = view.row_of(key)
    assert r is not None
    index = view.proxy.index(r, 1)
    view.table.scrollTo(index)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def real_top(qtbot, make_monitor, real_frames):
    """The window shown on the real recording, the Top tab current and filled."""
    monitor = make_monitor(capacity=100_000)
    window, state = monitor.window, monitor.state
    window.show()
    qtbot.waitExposed(window)
    window.bottom_tabs.setCurrentWidget(window.top)
    monitor.controller.apply_now(real_frames)
    view = window.top
    qtbot.waitUntil(lambda: len(view.model.table) == len(edge_stats(state)))
    return monitor, view


def test_clicking_a_receiver_row_filters_every_view_to_it(qtbot, real_top):
    monitor, view = real_top
    window, state = monitor.window, monitor.state
    whole = edge_stats(state)
    # post_save's busiest receiver: post_save has several receivers and many senders.
    i = max((i for i, k in enumerate(whole.keys())
             if k[0] == SIGNAL_TO_RECEIVER and k[1] == POST_SAVE),
            key=lambda i: int(whole.calls[i]))
    key = whole.key(i)
    with qtbot.waitSignal(view.edgeActivated) as activated:
        click_row(qtbot, view, key)
    assert tuple(activated.args) == key

    f = monitor.controller.filter
    assert f.signals == frozenset({POST_SAVE}) and f.receivers == frozenset({key[2]})
    expected = state.select(Filter(signals=frozenset({POST_SAVE}),
                                   receivers=frozenset({key[2]})))
    assert window.table_model.rowCount() == len(expected) > 0
    # The graph shows only post_save (and keeps the clicked receiver's edge bright).
    assert window.graph.is_node_visible("signal", POST_SAVE)
    assert not any(window.graph.is_node_visible("signal", k[2]) for k in whole.keys()
                   if k[0] == SENDER_TO_SIGNAL and k[2] != POST_SAVE)
    assert not window.graph.is_dimmed("receiver", key[2])
    # The Top table itself now covers the filtered dispatches, with the row's figures.
    qtbot.waitUntil(lambda: view.model.table.calls[view.model.table.kind == 0].sum()
                    == len(expected))
    assert view.model.table.stats_for(*key) == whole.stats(i)


def test_clicking_a_sender_row_filters_by_sender_and_signal(qtbot, real_top):
    monitor, view = real_top
    window, state = monitor.window, monitor.state
    whole = edge_stats(state)
    senders = [i for i, k in enumerate(whole.keys()) if k[0] == SENDER_TO_SIGNAL]
    i = max(senders, key=lambda i: int(whole.calls[i]))
    key = whole.key(i)
    window.filters.model.set_checked({key[2]})  # its signal already alone: stays checked
    click_row(qtbot, view, key)
    f = monitor.controller.filter
    assert f.signals == frozenset({key[2]}) and f.senders == frozenset({key[1]})
    assert window.filters.node_filter == ("sender", key[1])
    assert window.table_model.rowCount() == whole.calls[i]

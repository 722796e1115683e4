"""Timeline lanes by process, the flame chart of a request, and zoom to the selection."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from django_probe import wire
from monitor_gui.qt.timeline_data import TimelineData
from monitor_gui.qt.timeline_view import GUTTER, TimelineView
from tests.monitor_gui.qt.scenario import Scenario


def login_rows(monitor) -> tuple[int, int]:
    """Absolute rows of the first user_logged_in dispatch and its nested post_save."""
    store = monitor.state.store
    for row in range(store.first, store.end):
        found = store.row(row)
        if found.signal.endswith("user_logged_in") and found.children:
            return row, found.children[0]
    raise AssertionError("the scenario sends a nested dispatch")


def test_lanes_by_process_are_titled_with_the_process_label(make_monitor):
    monitor = make_monitor()
    scenario = Scenario()
    frames = scenario.frames(2)
    other = wire.Proc(5151, "worker", "b00t5678")
    frames.append(wire.encode_frame(other, 0, scenario.request()))
    monitor.controller.apply_now(frames)
    monitor.window.lanes.setCurrentText("Lanes: process")
    data = monitor.window.timeline_data
    labels = {info.label for info in monitor.state.processes.values()}
    assert labels == {"devbox:4242", "worker:5151"}
    assert set(data.lane_names) == labels
    # Each dispatch sits in its own process's lane.
    proc = monitor.state.store.column("proc", data.rows[data.lo:data.hi])
    lane_of_proc = {p: {int(lane) for lane in data.lane[data.lo:data.hi][proc == p]}
                    for p in np.unique(proc).tolist()}
    assert all(len(lanes) == 1 for lanes in lane_of_proc.values())
    assert len({min(lanes) for lanes in lane_of_proc.values()}) == 2


def test_flame_chart_stacks_children_and_receivers_under_their_dispatch(make_monitor, qtbot):
    monitor = make_monitor()
    monitor.controller.apply_now(Scenario().frames(2))
    window = monitor.window
    window.resize(1600, 1000)
    window.lanes.setCurrentText("Flame: request")
    view = window.timeline
    view.resize(GUTTER + 1200, 600)
    parent, child = login_rows(monitor)
    store = monitor.state.store
    view.selected_row = parent
    assert view.zoom_to_selection()
    bars = view.bars()
    by_row = {(b.kind, b.store_row): b for b in bars if b.kind == "dispatch"}
    top, nested = by_row[("dispatch", parent)], by_row[("dispatch", child)]
    receivers = [b for b in bars if b.kind == "receiver" and b.store_row == parent]
    # The dispatch's receivers are its child bars: the row below, in call order, inside it.
    assert [b.name for b in receivers] == [r.name for r in store.row(parent).receivers]
    assert all(b.row == top.row + 1 for b in receivers)
    assert all(top.x - 0.5 <= b.x and b.x + b.w <= top.x + top.w + 0.5 for b in receivers)
    assert [b.x for b in receivers] == sorted(b.x for b in receivers)
    assert top.rect.bottom() < receivers[0].rect.top() + 1
    # The nested post_save stacks under its parent's receivers, within the parent's span.
    assert nested.row == top.row + 2
    assert top.x <= nested.x and nested.x + nested.w <= top.x + top.w
    assert nested.rect.top() > receivers[0].rect.bottom()
    nested_receivers = [b for b in bars if b.kind == "receiver" and b.store_row == child]
    assert [b.row for b in nested_receivers] == [nested.row + 1]
    # Other requests are lanes of their own: only this request is drawn on these rows.
    rows = {top.row, top.row + 1, top.row + 2, top.row + 3}
    requests = {store.row(b.store_row).request.id for b in bars if b.row in rows}
    assert requests == {store.row(parent).request.id}


def test_flame_bars_are_what_is_painted_and_hit(make_monitor, qtbot):
    monitor = make_monitor()
    monitor.controller.apply_now(Scenario().frames(1))
    window = monitor.window
    window.lanes.setCurrentText("Flame: request")
    view = window.timeline
    view.resize(GUTTER + 1000, 400)
    view.show()
    parent, _child = login_rows(monitor)
    view.selected_row = parent
    view.zoom_to_selection()
    view.grab()  # paints
    assert view.last_bars == view.bars()
    receiver = next(b for b in view.last_bars if b.kind == "receiver" and b.store_row == parent)
    with qtbot.waitSignal(view.dispatchClicked) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                         pos=receiver.rect.center().toPoint())
    assert blocker.args == [parent]  # a receiver bar selects its dispatch


def test_zoom_to_selection_action_shows_the_selected_dispatch(make_monitor, qtbot):
    monitor = make_monitor()
    monitor.controller.apply_now(Scenario().frames(5))
    window = monitor.window
    view = window.timeline
    view.fit_all()
    row, _child = login_rows(monitor)
    window.select_row(row)
    assert view.selected_row == row
    before = view.t1 - view.t0
    window.zoom_selection_action.trigger()
    i = view.data.index_of(row)
    ts, end = view.data.ts[i], view.data.end[i]
    assert view.t0 < ts < end < view.t1
    assert view.t1 - view.t0 <= (end - ts) * 1.6 < before
    assert not view.follow
    top, bottom = view.visible_rows()
    assert top <= view.data.drow[i] < bottom


def test_z_key_zooms_and_without_selection_does_nothing(qtbot):
    n = 3
    data = TimelineData(lambda i: f"sig{i}")
    data.append(np.arange(n, dtype=np.int64), np.asarray([0, 1_000_000, 9_000_000]),
                np.asarray([500_000, 200_000, 100_000]), np.zeros(n, np.int64),
                np.zeros(n, np.int32), np.zeros(n, bool), np.zeros(n, np.int64))
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(GUTTER + 800, 200)
    view.fit_all()
    fitted = (view.t0, view.t1)
    assert not view.zoom_to_selection()
    qtbot.keyClick(view, Qt.Key.Key_Z)
    assert (view.t0, view.t1) == fitted
    view.selected_row = 1
    qtbot.keyClick(view, Qt.Key.Key_Z)
    assert view.t0 == 1_000_000 - 50_000 and view.t1 == 1_200_000 + 50_000

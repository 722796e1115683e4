"""The timeline: lanes, nesting rows, per-pixel aggregation, hit testing and painting."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from monitor_gui.qt.timeline_axis import clock
from monitor_gui.qt.timeline_data import ITEM_LIMIT, TimelineData
from monitor_gui.qt.timeline_view import AXIS_H, GUTTER, ROW_H, TimelineView

NAMES = {0: "sig.a", 1: "sig.b", 2: "sig.c"}


def data_with(ts, dur, key, depth=None, raised=None) -> TimelineData:
    n = len(ts)
    data = TimelineData(lambda i: NAMES.get(i, f"k{i}"))
    data.append(np.arange(n, dtype=np.int64), np.asarray(ts, np.int64),
                np.asarray(dur, np.int64), np.asarray(key, np.int64),
                np.zeros(n, np.int32) if depth is None else np.asarray(depth, np.int32),
                np.zeros(n, bool) if raised is None else np.asarray(raised, bool),
                np.asarray(key, np.int64))
    return data


def test_lanes_and_nesting_rows():
    data = data_with([100, 110, 200, 300], [50, 10, 20, 5], [1, 1, 0, 2], depth=[0, 1, 0, 0])
    assert data.lane_names == ["sig.a", "sig.b", "sig.c"]  # keys sorted by first unique id
    # Lanes sorted by name; sig.b has two rows because of the nested dispatch.
    rows = data.display_row(np.arange(4))
    assert rows.tolist() == [1, 2, 0, 3]
    assert data.total_rows == 4
    assert data.lane_at_row(2) == data.lane_names.index("sig.b")


def test_a_lane_of_nested_dispatches_only_has_no_empty_first_row():
    # sig.b is only ever sent inside another receiver (depth 1 and 2): its lane starts at
    # its first used sub-row; a top-level sig.b arriving later opens the row above.
    data = data_with([100, 110, 200, 300], [50, 10, 20, 5], [1, 1, 0, 2], depth=[1, 2, 0, 0])
    assert data.display_row(np.arange(4)).tolist() == [1, 2, 0, 3]
    assert data.total_rows == 4 and data.lane_rows(data.lane_names.index("sig.b")) == 2
    assert data.lane_at_row(3) == data.lane_names.index("sig.c")
    data.append(np.asarray([4]), np.asarray([400]), np.asarray([5]), np.asarray([1]),
                np.asarray([0], np.int32), np.zeros(1, bool), np.asarray([1]))
    assert data.display_row(np.arange(5)).tolist() == [2, 3, 0, 4, 1]
    assert data.total_rows == 5


def test_few_marks_are_drawn_individually():
    data = data_with([0, 100, 200], [10, 10, 10], [0, 0, 1])
    vis = data.visible(0, 1000, 500)
    assert vis.coverage is None and sorted(vis.items.tolist()) == [0, 1, 2]
    assert data.visible(150, 1000, 500).items.tolist() == [2]


def test_many_marks_become_per_pixel_coverage():
    n = ITEM_LIMIT * 4
    ts = np.arange(n, dtype=np.int64) * 10  # one mark every 10 ns, 5 ns long
    raised = np.zeros(n, bool)
    raised[-1] = True
    data = data_with(ts, np.full(n, 5), np.zeros(n, np.int64), raised=raised)
    width = 100
    vis = data.visible(0, n * 10, width)
    assert vis.items is None and vis.coverage.shape == (1, width)
    # Each pixel spans n*10/width ns and therefore covers n/width marks.
    assert vis.coverage.sum() == n
    assert (vis.coverage[0] == n // width).all()
    assert vis.errors[0, -1] == 1 and vis.errors[0, :-1].sum() == 0


def test_long_marks_cover_every_pixel_they_span():
    n = ITEM_LIMIT + 1
    ts = np.zeros(n, np.int64)
    dur = np.full(n, 1)
    dur[0] = 1000  # one long mark over the whole window
    data = data_with(ts, dur, np.zeros(n, np.int64))
    data.t_min = -1.0  # force the masked (zoomed-in) path
    vis = data.visible(0, 1000, 10)
    assert vis.coverage[0].tolist() == [n] + [1] * 9


def test_eviction_drops_leading_rows():
    data = data_with([0, 10, 20, 30], [1, 1, 1, 1], [0, 0, 0, 0])
    data.evict_before(2)
    assert len(data) == 2
    assert data.rows[data.lo:data.hi].tolist() == [2, 3]


def test_hit_returns_innermost_mark():
    data = data_with([0, 10], [100, 20], [0, 0], depth=[0, 0])
    assert data.hit(15, 0, 0) == 1  # both cover t=15; the shorter is inside
    assert data.hit(50, 0, 0) == 0
    assert data.hit(500, 0, 0) is None


def test_view_follows_live_and_zoom_leaves_follow(qtbot):
    data = data_with([0, 5_000_000_000], [1000, 1000], [0, 1])
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(800, 200)
    view.data_changed()
    assert view.follow and view.t1 > data.t_max and view.t1 - view.t0 == view.window_ns
    with qtbot.waitSignal(view.followChanged) as blocker:
        view.zoom(0.5)
    assert blocker.args == [False] and not view.follow
    view.set_follow(True)
    assert view.follow


def test_click_on_mark_emits_its_row(qtbot):
    data = data_with([0, 600], [500, 300], [0, 0])
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(GUTTER + 1000, 200)
    view.show()
    view.set_window(0, 1000)
    x = view.x_of(700)
    with qtbot.waitSignal(view.dispatchClicked) as blocker:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                         pos=QPointF(x, AXIS_H + ROW_H / 2).toPoint())
    assert blocker.args == [1]


def test_paint_million_rows_uses_aggregates(qtbot):
    n = 1_000_000
    rng = np.random.default_rng(1)
    ts = np.sort(rng.integers(0, 60_000_000_000, n))
    data = data_with(ts, rng.integers(1_000, 200_000, n), rng.integers(0, 3, n),
                     depth=rng.integers(0, 3, n), raised=rng.random(n) < 0.01)
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(1400, 300)
    view.fit_all()
    image = view.grab()  # runs paintEvent
    assert not image.isNull()
    assert view.last_aggregated and view.last_visible_total > ITEM_LIMIT
    view.set_window(1_000_000_000, 1_000_200_000)  # zoomed far in: individual marks
    view.grab()
    assert not view.last_aggregated and 0 < view.last_visible_total <= ITEM_LIMIT


def test_axis_labels_use_exact_integer_time():
    base = 1_764_000_001_577_500_000
    assert clock(base, 500_000).endswith(".5775")  # as many digits as the step needs
    assert clock(base, 1e6).endswith(".577")
    assert clock(base, 5e8).endswith(".577")  # never fewer than milliseconds
    assert clock(base + 1, 100).endswith(".5775000")
    assert clock(base + 1, 1).endswith(".577500001")
    assert "." not in clock(base, 5e9)


def test_aggregated_paint_shows_errors_in_red(qtbot):
    from monitor_gui.qt.theme import LIGHT

    n = ITEM_LIMIT * 3
    raised = np.zeros(n, bool)
    raised[n // 2:] = True  # the second half of the window raised
    data = data_with(np.arange(n) * 1000, np.full(n, 900), np.zeros(n, np.int64), raised=raised)
    view = TimelineView(data, theme=LIGHT)
    qtbot.addWidget(view)
    view.resize(GUTTER + 400, 120)
    view.fit_all()
    image = view.grab().toImage()
    assert view.last_aggregated
    y = AXIS_H + ROW_H // 2
    left = image.pixelColor(GUTTER + 60, y)
    right = image.pixelColor(GUTTER + 340, y)
    assert right.red() > 180 and right.green() < 90  # error red
    assert left != right and not (left.red() > 180 and left.green() < 90)


def test_many_lanes_get_a_scrollbar(qtbot):
    n = 60
    data = data_with(np.arange(n) * 10, np.full(n, 5), np.arange(n))  # one lane per mark
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(800, 200)
    view.show()
    view.data_changed()
    assert view.vbar.isVisible() and view.vbar.maximum() > 0
    view.vbar.setValue(view.vbar.maximum())
    top, bottom = view.visible_rows()
    assert bottom >= data.total_rows > top > 0
    view.resize(800, AXIS_H + ROW_H * (n + 2))
    assert not view.vbar.isVisible() and view.scroll_row == 0

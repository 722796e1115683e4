"""Timeline axis: ticks at exact wall-clock times, fitting real traffic, the empty filter."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from monitor_gui.core.query import Filter
from monitor_gui.qt.timeline_axis import SECOND, clock, ticks
from monitor_gui.qt.timeline_data import TimelineData
from monitor_gui.qt.timeline_view import GUTTER, TimelineView
from tests.monitor_gui.conftest import REAL_RECORDING
from tests.monitor_gui.qt.scenario import Scenario


def wall_ns(h: int, m: int, s: int, ms: int) -> int:
    """Local wall time 2026-12-03 h:m:s.ms as Unix ns (what the axis labels show)."""
    return int(time.mktime((2026, 12, 3, h, m, s, 0, 0, -1))) * SECOND + ms * 1_000_000


def view_of(ts: list[int], qtbot) -> TimelineView:
    n = len(ts)
    data = TimelineData(lambda i: "django.contrib.auth.signals.user_login_failed")
    data.append(np.arange(n, dtype=np.int64), np.asarray(ts, np.int64),
                np.full(n, 50_000, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int32),
                np.zeros(n, bool), np.zeros(n, np.int64))
    view = TimelineView(data)
    qtbot.addWidget(view)
    view.resize(GUTTER + 1000, 200)
    return view


def test_an_event_is_drawn_at_the_tick_labelled_with_its_time(qtbot):
    # The first dispatch's .6 s used to shift every tick: 35.264 was drawn at "34.6".
    first, event = wall_ns(18, 2, 30, 600), wall_ns(18, 2, 35, 264)
    view = view_of([first, event], qtbot)
    rel = event - view.data.base
    view.set_window(rel - 4_000_000, rel + 4_000_000)  # 8 ms: a tick every millisecond
    labelled = {label: view.x_of(t) for t, label in view.ticks()}
    assert "18:02:35.264" in labelled
    assert abs(labelled["18:02:35.264"] - view.x_of(rel)) < 0.5
    view.fit_all()  # ~5 s: ticks on whole and half seconds
    labelled = {label: t for t, label in view.ticks()}
    assert "18:02:35.000" in labelled and "18:02:31.000" in labelled
    assert view.data.base + round(labelled["18:02:35.000"]) == wall_ns(18, 2, 35, 0)
    px_per_ns = view.plot_width / (view.t1 - view.t0)
    tick_x = view.x_of(labelled["18:02:35.000"])
    assert abs(view.x_of(rel) - tick_x - 264e6 * px_per_ns) < 0.5


def test_ticks_land_on_clock_multiples_at_every_zoom():
    base = wall_ns(18, 2, 30, 600) + 123_457  # an awkward origin
    for span in (3e3, 7e6, 4e9, 90e9, 3 * 3600e9, 40 * 86400e9, 28 * 365 * 86400e9):
        step, found = ticks(base, 1e9, 1e9 + span, 900)
        assert 3 <= len(found) <= 11, (span, len(found))
        for t, label in found:
            # Relative times are floats: over decades they are exact to ~100 ns only.
            absolute = base + round(t)
            assert label == clock(absolute + min(step // 1000, 1000), step)
            if step < 3600 * SECOND:  # hour and day steps follow the local zone
                assert absolute % step == 0


def test_open_real_recording_fits_the_run_not_its_clock_jumps(make_monitor, qtbot,
                                                             monkeypatch):
    def fail(_parent, _title, text):  # the modal box would block a headless run
        raise AssertionError(text)

    monkeypatch.setattr("monitor_gui.qt.window_files.QMessageBox.warning", fail)
    monitor = make_monitor(capacity=100_000)
    window = monitor.window
    window.resize(1600, 1000)
    window.open_recording(str(REAL_RECORDING))
    view = window.timeline
    # Django's suite mocks the clock: a few hundred dispatches are stamped 1999..2016.
    # Fitting them too showed "883712899 s" and a solid block of grid lines.
    assert view.t1 - view.t0 < 120e9
    assert "not shown" in view.fit_note and "clock jumps" in view.fit_note
    assert 3 <= len(view.ticks()) <= 20
    view.grab()
    assert view.last_visible_total > 40_000
    # Tick labels are drawn whole, clear of the note at the axis' right end.
    from monitor_gui.qt.timeline_view import GUTTER
    note_left = GUTTER + view.plot_width - view.metrics.horizontalAdvance(view.fit_note) - 12
    labels = view.tick_labels()
    assert 2 <= len(labels) <= len(view.ticks())
    assert all(x + view.metrics.horizontalAdvance(text) <= note_left for x, text in labels)
    fitted = view.t1 - view.t0
    # The note says how to see them: a click shows every mark, the far-off ones too.
    assert "click to show them" in view.fit_note
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.fit_note_box().center().toPoint())
    assert view.fit_note == "" and view.t1 - view.t0 > 10 * 365 * 86_400e9 > fitted
    assert len(view.tick_labels()) >= len(labels) and 2 <= len(view.ticks()) <= 20
    view.fit_all()  # and back
    assert view.t1 - view.t0 == fitted and view.fit_note


def test_empty_filter_says_so_and_draws_no_axis(make_monitor, qtbot):
    monitor = make_monitor()
    view = monitor.window.timeline
    assert view.empty_text() == "No dispatches yet" and view.ticks() == []
    monitor.controller.apply_now(Scenario().frames(3))
    assert len(view.data) and view.ticks()
    with qtbot.waitSignal(monitor.controller.selectionReset):
        monitor.controller.set_filter(Filter(text="no-such-thing-anywhere"))
    assert len(view.data) == 0
    assert view.empty_text() == "No dispatch matches the filter"
    assert view.ticks() == []  # no 1970 axis
    monitor.controller.set_filter(None)
    assert len(view.data) and view.ticks()


def test_follow_live_is_not_dragged_away_by_a_mocked_clock(qtbot):
    start = wall_ns(18, 2, 30, 0)
    view = view_of([start, start + 1 * SECOND], qtbot)
    data = view.data
    view.data_changed()
    assert view.follow and view.t0 < data.ts[data.hi - 1] < view.t1
    # One batch: three real dispatches and one a frozen clock stamped 16 years later.
    later = start + 2 * SECOND
    stamps = np.asarray([later, later + 10**6, later + 2 * 10**6,
                         later + 16 * 365 * 86_400 * SECOND], np.int64)
    data.append(np.arange(2, 6, dtype=np.int64), stamps, np.full(4, 50_000, np.int64),
                np.zeros(4, np.int64), np.zeros(4, np.int32), np.zeros(4, bool),
                np.zeros(4, np.int64))
    view.data_changed()
    newest_real = later + 2 * 10**6 - data.base
    assert view.t0 < newest_real < view.t1
    assert view.t1 - newest_real < view.window_ns * 0.1


def test_the_window_span_reads_in_a_unit_a_person_uses():
    from monitor_gui.qt.theme import format_span

    assert format_span(2_500_000) == "2.50 ms"
    assert format_span(12e9) == "12.00 s"
    assert format_span(90 * SECOND) == "1.5 min"
    assert format_span(5 * 3600 * SECOND) == "5.0 h"
    assert format_span(3 * 86_400 * SECOND) == "3.0 days"
    assert format_span(883_712_899 * SECOND) == "28.0 years"

"""The timeline: a custom-painted flame-style view of dispatches over time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QScrollBar, QToolTip, QWidget

from monitor_gui.qt.theme import Theme, current_theme, format_ns, html_text, short_signal
from monitor_gui.qt.timeline_data import TimelineData
from monitor_gui.qt.timeline_flame import Bar, ReceiversOf
from monitor_gui.qt.timeline_paint import AXIS_H, GUTTER, ROW_H, TimelinePainting

__all__ = ["AXIS_H", "GUTTER", "ROW_H", "TimelineView"]

DEFAULT_WINDOW_NS = 10e9  # follow-live shows the last ten seconds
MIN_SPAN_NS = 2_000.0
SELECTION_MARGIN = 0.25  # zoom to selection: this share of the dispatch on either side


class TimelineView(TimelinePainting):
    """Time left -> right, one lane per signal (or thread/request/process), nesting below.

    In flame mode (one lane per request) each dispatch's receivers are bars on the row
    under it, and the dispatches those receivers sent stack below them.
    """

    dispatchClicked = Signal(int)  # absolute store row
    followChanged = Signal(bool)

    def __init__(self, data: TimelineData, parent: QWidget | None = None,
                 theme: Theme | None = None, receivers: ReceiversOf | None = None,
                 stored: Callable[[], int] | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.receivers = receivers  # receiver calls of dispatch rows (flame mode)
        # How many dispatches exist before filtering: an empty view then says the
        # filter hides them rather than that nothing arrived.
        self.stored = stored
        self.fit_note = ""  # what fit_all left out, shown while its window stands
        self.last_bars: list[Bar] = []
        self.theme = theme or current_theme()
        self.follow = True
        self.window_ns = DEFAULT_WINDOW_NS
        self.t0, self.t1 = 0.0, DEFAULT_WINDOW_NS
        self.scroll_row = 0
        self.selected_row: int | None = None
        self.last_paint_ms = 0.0
        self.last_visible_total = 0
        self.last_aggregated = False
        self._press: QPointF | None = None
        self._press_view = (0.0, 0.0, 0)
        self._dragged = False
        self._row_colours: np.ndarray | None = None
        self._colour_version = (-1, -1)
        self.small = QFont(self.font())
        self.small.setPointSizeF(max(7.5, self.font().pointSizeF() * 0.85))
        self.metrics = QFontMetricsF(self.small)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(120)
        # Lanes scroll vertically (many threads/requests); shown only when they overflow.
        self.vbar = QScrollBar(Qt.Orientation.Vertical, self)
        self.vbar.hide()
        self.vbar.valueChanged.connect(self._scrolled)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._row_colours = None  # lane colours depend on the theme
        self.update()

    # ------------------------------------------------------------------ view window
    @property
    def plot_width(self) -> int:
        bar = self.vbar.sizeHint().width() if self.vbar.isVisibleTo(self) else 0
        return max(1, self.width() - GUTTER - bar)

    def _sync_scrollbar(self) -> None:
        shown = max(1, (self.height() - AXIS_H) // ROW_H)
        top = max(0, self.data.total_rows - shown)
        self.scroll_row = min(self.scroll_row, top)
        width = self.vbar.sizeHint().width()
        self.vbar.setGeometry(self.width() - width, AXIS_H, width, self.height() - AXIS_H)
        self.vbar.blockSignals(True)
        self.vbar.setRange(0, top)
        self.vbar.setPageStep(shown)
        self.vbar.setValue(self.scroll_row)
        self.vbar.blockSignals(False)
        self.vbar.setVisible(top > 0)

    def _scrolled(self, value: int) -> None:
        self.scroll_row = value
        self.update()

    def scroll_lanes(self, row: int) -> None:
        self.scroll_row = max(0, row)
        self._sync_scrollbar()
        self.update()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._sync_scrollbar()

    def data_changed(self) -> None:
        """New marks arrived (or were evicted): scroll if following, then repaint."""
        if self.follow and len(self.data):
            self.t1 = self.data.t_live + self.window_ns * 0.02
            self.t0 = self.t1 - self.window_ns
        self._sync_scrollbar()
        self.update()

    def set_follow(self, follow: bool) -> None:
        if follow != self.follow:
            self.follow = follow
            self.followChanged.emit(follow)
        self.data_changed()

    def fit_all(self) -> None:
        """Show every mark, except the few whose clock jumped far away (noted in the axis)."""
        if len(self.data):
            start, end, outside = self.data.core_extent()
            span = max(end - start, MIN_SPAN_NS)
            self.set_window(start - span * 0.02, end + span * 0.02)
            self.window_ns = self.t1 - self.t0
            if outside:
                self.fit_note = (f"{outside:,} with far-off times (clock jumps) not shown: "
                                 "click to show them")

    def show_everything(self) -> None:
        """Show every mark, the far-off ones too (the fit note's click)."""
        if len(self.data):
            lo, hi = self.data.lo, self.data.hi
            start = float(self.data.ts[lo:hi].min())
            end = float(self.data.end[lo:hi].max())
            span = max(end - start, MIN_SPAN_NS)
            self.set_window(start - span * 0.02, end + span * 0.02)
            self.window_ns = self.t1 - self.t0

    def set_window(self, t0: float, t1: float) -> None:
        """Free zoom/pan: leaves follow-live mode."""
        if t1 - t0 < MIN_SPAN_NS:
            mid = (t0 + t1) / 2
            t0, t1 = mid - MIN_SPAN_NS / 2, mid + MIN_SPAN_NS / 2
        self.t0, self.t1 = t0, t1
        self.fit_note = ""
        self.set_follow(False)

    def zoom_to_selection(self) -> bool:
        """Show the selected dispatch with a margin, scrolled to its row; False if hidden."""
        i = None if self.selected_row is None else self.data.index_of(self.selected_row)
        if i is None:
            return False
        ts, end = float(self.data.ts[i]), float(self.data.end[i])
        margin = max((end - ts) * SELECTION_MARGIN, MIN_SPAN_NS / 2)
        self.set_window(ts - margin, end + margin)
        self.window_ns = self.t1 - self.t0
        top, bottom = self.visible_rows()
        row = int(self.data.drow[i])
        if not top <= row < bottom - 1:
            self.scroll_lanes(row - 1)
        self.update()
        return True

    def zoom(self, factor: float, at_x: float | None = None) -> None:
        """factor < 1 zooms in around the pixel ``at_x`` (default: the centre)."""
        px = self.plot_width / 2 if at_x is None else at_x - GUTTER
        t = self.t0 + (self.t1 - self.t0) * px / self.plot_width
        self.window_ns = max(MIN_SPAN_NS, (self.t1 - self.t0) * factor)
        self.set_window(t - (t - self.t0) * factor, t + (self.t1 - t) * factor)

    def x_of(self, t: float) -> float:
        return GUTTER + (t - self.t0) * self.plot_width / (self.t1 - self.t0)

    def t_of(self, x: float) -> float:
        return self.t0 + (x - GUTTER) * (self.t1 - self.t0) / self.plot_width

    def visible_rows(self) -> tuple[int, int]:
        rows = max(1, (self.height() - AXIS_H) // ROW_H + 1)
        top = min(self.scroll_row, max(0, self.data.total_rows - rows + 1))
        return top, top + rows

    # ------------------------------------------------------------------ interaction
    def wheelEvent(self, event: Any) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_lanes(self.scroll_row - event.angleDelta().y() // 40)
            return
        self.zoom(0.85 ** (event.angleDelta().y() / 120), event.position().x())

    def mousePressEvent(self, event: Any) -> None:
        self._press = event.position()
        self._press_view = (self.t0, self.t1, self.scroll_row)
        self._dragged = False

    def mouseMoveEvent(self, event: Any) -> None:
        pos = event.position()
        if self._press is not None:
            dx, dy = pos.x() - self._press.x(), pos.y() - self._press.y()
            if abs(dx) + abs(dy) > 3:
                self._dragged = True
                t0, t1, row = self._press_view
                shift = dx * (t1 - t0) / self.plot_width
                self.scroll_lanes(row - int(dy // ROW_H))
                self.set_window(t0 - shift, t1 - shift)
            return
        bar = self.bar_at(pos)
        row = self.hit_row(pos)
        if bar is not None and bar.kind == "receiver":
            state = "raised" if bar.raised else "ok"
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"<b>{html_text(bar.name)}</b> (receiver)<br>"
                              f"{format_ns(bar.dur)} · {state}", self)
        elif row is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_for(row), self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event: Any) -> None:
        if self._press is not None and not self._dragged and self.fit_note \
                and self.fit_note_box().contains(event.position()):
            self._press = None
            self.show_everything()
            return
        if self._press is not None and not self._dragged:
            row = self.hit_row(event.position())
            if row is not None:
                self.selected_row = row
                self.dispatchClicked.emit(row)
                self.update()
        self._press = None

    def bar_at(self, pos: QPointF) -> Bar | None:
        """The bar last painted under ``pos`` (a receiver before the dispatch around it)."""
        found = [b for b in self.last_bars if b.contains(pos.x(), pos.y())]
        return min(found, key=lambda b: (b.kind == "dispatch", b.w), default=None)

    def hit_row(self, pos: QPointF) -> int | None:
        if pos.x() < GUTTER or pos.y() < AXIS_H:
            return None
        bar = self.bar_at(pos)
        if bar is not None:
            return bar.store_row
        row = int((pos.y() - AXIS_H) // ROW_H) + self.visible_rows()[0]
        tolerance = 2 * (self.t1 - self.t0) / self.plot_width
        return self.data.hit(self.t_of(pos.x()), row, tolerance)

    def tooltip_for(self, row: int) -> str:
        hit = np.flatnonzero(self.data.rows[self.data.lo:self.data.hi] == row)
        if not len(hit):
            return ""
        i = int(hit[0]) + self.data.lo
        name = self.data.name_of(int(self.data.signal[i]))
        state = "raised" if self.data.raised[i] else "ok"
        return (f"<b>{html_text(short_signal(name))}</b><br>{html_text(name)}<br>"
                f"{format_ns(self.data.end[i] - self.data.ts[i])} · {state}")

    def keyPressEvent(self, event: Any) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(0.7)
        elif key == Qt.Key.Key_Minus:
            self.zoom(1 / 0.7)
        elif key == Qt.Key.Key_Left:
            span = self.t1 - self.t0
            self.set_window(self.t0 - span * 0.2, self.t1 - span * 0.2)
        elif key == Qt.Key.Key_Right:
            span = self.t1 - self.t0
            self.set_window(self.t0 + span * 0.2, self.t1 + span * 0.2)
        elif key == Qt.Key.Key_Home:
            self.fit_all()
        elif key == Qt.Key.Key_End:
            self.set_follow(True)
        elif key == Qt.Key.Key_Z:
            self.zoom_to_selection()
        else:
            super().keyPressEvent(event)

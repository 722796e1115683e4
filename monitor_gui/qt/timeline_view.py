"""The timeline: a custom-painted flame-style view of dispatches over time."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QScrollBar, QToolTip, QWidget

from monitor_gui.qt.theme import Theme, current_theme, format_ns, html_text, short_signal
from monitor_gui.qt.timeline_data import TimelineData

ROW_H = 18
GUTTER = 180
AXIS_H = 26
DEFAULT_WINDOW_NS = 10e9  # follow-live shows the last ten seconds
MIN_SPAN_NS = 2_000.0
_STEPS = [m * 10.0 ** e for e in range(0, 13) for m in (1, 2, 5)]


class TimelineView(QWidget):
    """Time left -> right, one lane per signal (or thread/request), nesting stacked below."""

    dispatchClicked = Signal(int)  # absolute store row
    followChanged = Signal(bool)

    def __init__(self, data: TimelineData, parent: QWidget | None = None,
                 theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.data = data
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
            self.t1 = self.data.t_max + self.window_ns * 0.02
            self.t0 = self.t1 - self.window_ns
        self._sync_scrollbar()
        self.update()

    def set_follow(self, follow: bool) -> None:
        if follow != self.follow:
            self.follow = follow
            self.followChanged.emit(follow)
        self.data_changed()

    def fit_all(self) -> None:
        if len(self.data):
            span = max(self.data.t_max - self.data.t_min, MIN_SPAN_NS)
            self.set_window(self.data.t_min - span * 0.02, self.data.t_max + span * 0.02)

    def set_window(self, t0: float, t1: float) -> None:
        """Free zoom/pan: leaves follow-live mode."""
        if t1 - t0 < MIN_SPAN_NS:
            mid = (t0 + t1) / 2
            t0, t1 = mid - MIN_SPAN_NS / 2, mid + MIN_SPAN_NS / 2
        self.t0, self.t1 = t0, t1
        self.set_follow(False)

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

    # ------------------------------------------------------------------ painting
    def _colours(self) -> np.ndarray:
        """ARGB colour per display row (the lane's colour), rebuilt when lanes change."""
        key = (len(self.data.lane_names), self.data.total_rows)
        if self._row_colours is None or self._colour_version != key:
            colours = np.zeros(max(1, self.data.total_rows), np.uint32)
            for lane, name in enumerate(self.data.lane_names):
                r0 = self.data.lane_row0[lane]
                colours[r0:r0 + self.data.lane_depth[lane] + 1] = self._lane_colour(lane, name)
            self._row_colours, self._colour_version = colours, key
        return self._row_colours

    def _lane_colour(self, lane: int, name: str) -> int:
        return self.theme.lane_colour(name).rgb() & 0xFFFFFF

    def paintEvent(self, event: Any) -> None:
        started = time.perf_counter()
        p = QPainter(self)
        theme = self.theme
        p.fillRect(self.rect(), theme.background)
        row0, row1 = self.visible_rows()
        self._paint_lanes(p, row0, row1)
        vis = self.data.visible(self.t0, self.t1, self.plot_width, row0, row1)
        self.last_visible_total = vis.total
        self.last_aggregated = vis.coverage is not None
        p.setClipRect(QRectF(GUTTER, AXIS_H, self.plot_width, self.height() - AXIS_H))
        if vis.coverage is not None:
            self._paint_aggregate(p, vis.coverage, vis.errors, row0)
        elif vis.items is not None and len(vis.items):
            self._paint_items(p, vis.items, row0)
        p.setClipping(False)
        self._paint_axis(p)
        if not len(self.data):
            p.setPen(theme.muted)
            p.drawText(self.rect().adjusted(GUTTER, AXIS_H, 0, 0), Qt.AlignmentFlag.AlignCenter,
                       "No dispatches yet")
        p.end()
        self.last_paint_ms = (time.perf_counter() - started) * 1000

    def _paint_lanes(self, p: QPainter, row0: int, row1: int) -> None:
        theme, data = self.theme, self.data
        p.setFont(self.small)
        for i, lane in enumerate(data.lane_order):
            r = int(data.lane_row0[lane])
            n = int(data.lane_depth[lane]) + 1
            if r + n <= row0 or r >= row1:
                continue
            y = AXIS_H + (r - row0) * ROW_H
            if i % 2:
                p.fillRect(QRectF(0, y, self.width(), n * ROW_H), theme.surface)
            p.setPen(theme.grid)
            p.drawLine(QPointF(0, y + n * ROW_H), QPointF(self.width(), y + n * ROW_H))
            p.fillRect(QRectF(6, y + 5, 4, ROW_H - 10), self.theme.lane_colour(
                data.lane_names[lane]))
            p.setPen(theme.text)
            label = self.metrics.elidedText(short_signal(data.lane_names[lane]),
                                            Qt.TextElideMode.ElideMiddle, GUTTER - 22)
            p.drawText(QRectF(16, y, GUTTER - 20, ROW_H), Qt.AlignmentFlag.AlignVCenter, label)
        p.setPen(theme.grid)
        p.drawLine(GUTTER, AXIS_H, GUTTER, self.height())

    def _paint_aggregate(self, p: QPainter, cov: np.ndarray, err: np.ndarray | None,
                         row0: int) -> None:
        rows, width = cov.shape
        colours = self._colours()[row0:row0 + rows]
        # Density as opacity on a log scale: one mark is visible, a burst is solid.
        alpha = np.zeros(cov.shape, np.uint32)
        hit = cov > 0
        peak = max(1.0, float(cov.max()))
        alpha[hit] = (90 + 165 * np.log1p(cov[hit]) / math.log1p(peak)).astype(np.uint32)
        argb = (alpha << 24) | colours[:, None]
        if err is not None:
            red = self.theme.error.rgb() & 0xFFFFFF
            argb[err > 0] = 0xFF000000 | red
        argb = np.ascontiguousarray(argb)
        image = QImage(argb.data, width, rows, width * 4, QImage.Format.Format_ARGB32)
        # Each image row becomes one lane row; 2 px gaps keep stacked rows distinct.
        for r in range(rows):
            p.drawImage(QRectF(GUTTER, AXIS_H + r * ROW_H + 2, width, ROW_H - 3), image,
                        QRectF(0, r, width, 1))

    def _paint_items(self, p: QPainter, items: np.ndarray, row0: int) -> None:
        data, theme = self.data, self.theme
        k = self.plot_width / (self.t1 - self.t0)
        x1 = GUTTER + (data.ts[items] - self.t0) * k
        x2 = GUTTER + (data.end[items] - self.t0) * k
        rows = data.display_row(items) - row0
        p.setFont(self.small)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for i, idx in enumerate(items.tolist()):
            left, right = max(GUTTER - 2.0, x1[i]), min(float(self.width()) + 2, x2[i])
            w = max(2.0, right - left)
            rect = QRectF(left, AXIS_H + rows[i] * ROW_H + 2, w, ROW_H - 3)
            name = self.name_of_signal(int(data.signal[idx]))
            colour = theme.error if data.raised[idx] else theme.lane_colour(name)
            p.fillRect(rect, colour)
            if int(data.rows[idx]) == self.selected_row:
                p.setPen(QPen(theme.text, 2))
                p.drawRect(rect.adjusted(-1, -1, 1, 1))
            if w > 60:
                p.setPen(QColor("#ffffff") if theme.dark or data.raised[idx] else QColor("#111"))
                text = f"{short_signal(name)}  {format_ns(data.end[idx] - data.ts[idx])}"
                p.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter,
                           self.metrics.elidedText(text, Qt.TextElideMode.ElideRight, w - 6))

    def name_of_signal(self, sid: int) -> str:
        return self.data.name_of(sid)

    def _paint_axis(self, p: QPainter) -> None:
        theme = self.theme
        p.fillRect(QRectF(0, 0, self.width(), AXIS_H), theme.surface)
        p.setPen(theme.grid)
        p.drawLine(0, AXIS_H, self.width(), AXIS_H)
        span = self.t1 - self.t0
        step = next((s for s in _STEPS if s * self.plot_width / span >= 90), _STEPS[-1])
        p.setFont(self.small)
        base = self.data.base or 0
        t = math.ceil(self.t0 / step) * step
        while t < self.t1:
            x = self.x_of(t)
            p.setPen(theme.grid)
            p.drawLine(QPointF(x, AXIS_H - 5), QPointF(x, self.height()))
            p.setPen(theme.muted)
            p.drawText(QPointF(x + 3, AXIS_H - 8), self._clock(base + round(t), step))
            t += step
        p.setPen(theme.text)
        mode = "LIVE" if self.follow else "FREE"
        p.drawText(QRectF(8, 0, GUTTER - 12, AXIS_H), Qt.AlignmentFlag.AlignVCenter,
                   f"{mode} · {format_ns(span)}")

    @staticmethod
    def _clock(ns: int, step: float) -> str:
        """Wall-clock label with as many decimals as the tick step needs (integer maths)."""
        secs, frac = divmod(ns, 1_000_000_000)
        text = time.strftime("%H:%M:%S", time.localtime(secs))
        if step < 1e9:
            digits = 3 if step >= 1e6 else (6 if step >= 1e3 else 9)
            text += f".{frac // 10 ** (9 - digits):0{digits}d}"
        return text

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
        row = self.hit_row(pos)
        if row is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_for(row), self)
        else:
            QToolTip.hideText()

    def mouseReleaseEvent(self, event: Any) -> None:
        if self._press is not None and not self._dragged:
            row = self.hit_row(event.position())
            if row is not None:
                self.selected_row = row
                self.dispatchClicked.emit(row)
                self.update()
        self._press = None

    def hit_row(self, pos: QPointF) -> int | None:
        if pos.x() < GUTTER or pos.y() < AXIS_H:
            return None
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
        else:
            super().keyPressEvent(event)

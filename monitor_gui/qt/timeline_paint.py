"""The timeline's painting: lanes, per-pixel aggregates, bars and the time axis."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from monitor_gui.qt.theme import Theme, format_ns, format_span, short_signal
from monitor_gui.qt.timeline_axis import ticks
from monitor_gui.qt.timeline_data import TimelineData
from monitor_gui.qt.timeline_flame import Bar, ReceiversOf, layout_bars

ROW_H = 18
GUTTER = 180
AXIS_H = 26


class TimelinePainting(QWidget):
    """Mixed into TimelineView, which owns the view window, scrolling and input."""

    data: TimelineData
    theme: Theme
    t0: float
    t1: float
    follow: bool
    selected_row: int | None
    receivers: ReceiversOf | None
    stored: Callable[[], int] | None
    fit_note: str
    last_bars: list[Bar]
    last_paint_ms: float
    last_visible_total: int
    last_aggregated: bool
    metrics: QFontMetricsF
    _row_colours: np.ndarray | None
    _colour_version: tuple[int, int]

    plot_width: Any  # a property of TimelineView
    visible_rows: Callable[[], tuple[int, int]]
    x_of: Callable[[float], float]

    # ------------------------------------------------------------------ painting
    def _colours(self) -> np.ndarray:
        """ARGB colour per display row (the lane's colour), rebuilt when lanes change."""
        key = (len(self.data.lane_names), self.data.total_rows)
        if self._row_colours is None or self._colour_version != key:
            colours = np.zeros(max(1, self.data.total_rows), np.uint32)
            for lane, name in enumerate(self.data.lane_names):
                r0 = self.data.lane_row0[lane]
                colours[r0:r0 + self.data.lane_rows(lane)] = self._lane_colour(lane, name)
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
        self.last_bars = []
        p.setClipRect(QRectF(GUTTER, AXIS_H, self.plot_width, self.height() - AXIS_H))
        if vis.coverage is not None:
            self._paint_aggregate(p, vis.coverage, vis.errors, row0)
        elif vis.items is not None and len(vis.items):
            self.last_bars = self._bars(vis.items, row0, row1)
            self._paint_bars(p, self.last_bars)
        p.setClipping(False)
        self._paint_axis(p)
        if not len(self.data):
            p.setPen(theme.muted)
            p.drawText(self.rect().adjusted(GUTTER, AXIS_H, 0, 0), Qt.AlignmentFlag.AlignCenter,
                       self.empty_text())
        p.end()
        self.last_paint_ms = (time.perf_counter() - started) * 1000

    def _paint_lanes(self, p: QPainter, row0: int, row1: int) -> None:
        theme, data = self.theme, self.data
        p.setFont(self.small)
        for i, lane in enumerate(data.lane_order):
            r = int(data.lane_row0[lane])
            n = data.lane_rows(lane)
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

    def empty_text(self) -> str:
        if self.stored is not None and self.stored() > 0:
            return "No dispatch matches the filter"
        return "No dispatches yet"

    def bars(self) -> list[Bar]:
        """The bars the view draws at its current window (none when it draws aggregates)."""
        row0, row1 = self.visible_rows()
        vis = self.data.visible(self.t0, self.t1, self.plot_width, row0, row1)
        return [] if vis.items is None else self._bars(vis.items, row0, row1)

    def _bars(self, items: np.ndarray, row0: int, row1: int) -> list[Bar]:
        k = self.plot_width / (self.t1 - self.t0)
        return layout_bars(self.data, items, (GUTTER, self.t0, k), (row0, row1), ROW_H,
                           AXIS_H, self.receivers)

    def _paint_bars(self, p: QPainter, bars: list[Bar]) -> None:
        theme = self.theme
        p.setFont(self.small)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        lo, hi = GUTTER - 2.0, float(self.width()) + 2
        for bar in bars:
            left, right = max(lo, bar.x), min(hi, bar.x + bar.w)
            w = max(2.0 if bar.kind == "dispatch" else 1.0, right - left)
            rect = QRectF(left, bar.y, w, bar.h)
            colour = theme.error if bar.raised else theme.lane_colour(bar.name)
            if bar.kind == "receiver" and not bar.raised:
                colour = QColor(colour).lighter(125)  # children read as parts of the bar above
            p.fillRect(rect, colour)
            if bar.kind == "dispatch" and bar.store_row == self.selected_row:
                p.setPen(QPen(theme.text, 2))
                p.drawRect(rect.adjusted(-1, -1, 1, 1))
            if w > 60:
                p.setPen(QColor("#ffffff") if theme.dark or bar.raised else QColor("#111"))
                label = short_signal(bar.name) if bar.kind == "dispatch" else bar.name
                text = f"{label}  {format_ns(bar.dur)}"
                p.drawText(rect.adjusted(4, 0, -2, 0), Qt.AlignmentFlag.AlignVCenter,
                           self.metrics.elidedText(text, Qt.TextElideMode.ElideRight, w - 6))

    def _paint_axis(self, p: QPainter) -> None:
        theme = self.theme
        p.fillRect(QRectF(0, 0, self.width(), AXIS_H), theme.surface)
        p.setPen(theme.grid)
        p.drawLine(0, AXIS_H, self.width(), AXIS_H)
        if self.data.base is None:
            return  # no time origin yet: an axis would count from 1970
        p.setFont(self.small)
        for t, _label in self.ticks():
            x = self.x_of(t)
            p.setPen(theme.grid)
            p.drawLine(QPointF(x, AXIS_H - 5), QPointF(x, self.height()))
        p.setPen(theme.muted)
        for x, label in self.tick_labels():
            p.drawText(QPointF(x, AXIS_H - 8), label)
        if self.fit_note:  # at the right end of the axis
            box = self.fit_note_box()
            p.fillRect(box, theme.surface)
            p.setPen(theme.muted)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.fit_note)
        p.setPen(theme.text)
        mode = "LIVE" if self.follow else "FREE"
        p.drawText(QRectF(8, 0, GUTTER - 12, AXIS_H), Qt.AlignmentFlag.AlignVCenter,
                   f"{mode} · {format_span(self.t1 - self.t0)}")

    def fit_note_box(self) -> QRectF:
        """Where the fit note is drawn (a click there shows every mark)."""
        note_w = self.metrics.horizontalAdvance(self.fit_note) + 12
        return QRectF(GUTTER + self.plot_width - note_w, 1, note_w, AXIS_H - 2)

    def tick_labels(self) -> list[tuple[float, str]]:
        """(x, text) of the tick labels drawn: only those that fit whole, left of the fit
        note if any and of the plot's right edge (a cut "18:25:40" reads "18:25" or "40")."""
        right = GUTTER + self.plot_width
        if self.fit_note:
            right -= self.metrics.horizontalAdvance(self.fit_note) + 12
        width = self.metrics.horizontalAdvance
        return [(x + 3, label) for x, label in
                ((self.x_of(t), label) for t, label in self.ticks())
                if x + 3 + width(label) <= right]

    def ticks(self) -> list[tuple[float, str]]:
        """(time relative to the data's base, wall-clock label) of each axis tick."""
        if self.data.base is None:
            return []
        return ticks(self.data.base, self.t0, self.t1, self.plot_width)[1]

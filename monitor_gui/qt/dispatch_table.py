"""The dispatch list's view: names elided from the left, columns sized to their content."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from monitor_gui.qt.dispatch_lines import SENDER_COLUMN, SIGNAL_COLUMN, display
from monitor_gui.qt.dispatch_model import DispatchTableModel
from monitor_gui.qt.theme import elide_dotted

SAMPLE_ROWS = 200  # lines measured to size the columns (spread over the list)
REFIT_BELOW = 500  # while the list is shorter, new rows may widen the columns again
# Widest text each column must show whatever the sample holds, and the widest it gets
# from its content (beyond, a name is elided: the Sender column takes what is left).
TYPICAL = ("00:00:00.000", "", "", "000", "000.00 ms", "receiver error", "", "")
MAX_WIDTH = (0, 260, 0, 0, 0, 0, 300, 220)
REQUEST_COLUMN = 6
REQUEST_MIN = 120  # the Request column gives way down to this before the Sender is squeezed
SENDER_MIN = 200  # (or its content's width, if less) what the Sender keeps when it can
PADDING = 18  # the style's cell margins and a little air


class DottedNameDelegate(QStyledItemDelegate):
    """Paints a cell's text with ``elide_dotted`` instead of Qt's middle/right elision."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[tuple[str, int, str], str] = {}

    def initStyleOption(self, option: QStyleOptionViewItem,
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        text = option.text
        if not text:
            return
        # The text rect leaves the style's margins: measure against what is painted.
        width = option.rect.width() - PADDING // 2
        key = (text, width, option.font.key())
        fitted = self._cache.get(key)
        if fitted is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            metrics = QFontMetrics(option.font)
            fitted = self._cache[key] = elide_dotted(text, width, metrics.horizontalAdvance)
        option.text = fitted


def column_widths(model: DispatchTableModel, metrics: QFontMetrics,
                  sample: int = SAMPLE_ROWS) -> list[int]:
    """Each column's width: its header, typical values and the widest of a sample of lines.

    ``resizeColumnsToContents`` measures every row (seconds at 1M); a spread sample of
    ``sample`` lines finds the usual widths in well under a millisecond per line.
    """
    n = model.rowCount()
    picks = np.unique(np.linspace(0, n - 1, min(n, sample)).astype(np.int64)) if n else []
    lines = [line for r in picks if (line := model.line(int(r))) is not None]
    widths = []
    for col, header in enumerate(model.COLUMNS):
        texts = [header, TYPICAL[col], *(display(line, col) for line in lines)]
        width = max(metrics.horizontalAdvance(t) for t in texts) + PADDING
        widths.append(min(width, MAX_WIDTH[col] or width))
    return widths


class DispatchTable(QTableView):
    """The list under the timeline: fits its columns when rows first come or the filter changes."""

    def __init__(self, model: DispatchTableModel) -> None:
        super().__init__()
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideLeft)  # keep the end, for any column
        self.names = DottedNameDelegate(self)
        for col in (SIGNAL_COLUMN, SENDER_COLUMN):
            self.setItemDelegateForColumn(col, self.names)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setMinimumSectionSize(40)
        header.setSectionResizeMode(SENDER_COLUMN, QHeaderView.ResizeMode.Stretch)
        self._fitted_at = -1  # the row count when the columns were last fitted
        self._widths: list[int] = []  # as last fitted, before giving the Sender room
        model.modelReset.connect(self.fit_columns)
        model.rowsInserted.connect(self._maybe_fit)
        self.fit_columns()

    def _maybe_fit(self, *_args: Any) -> None:
        if self._fitted_at < REFIT_BELOW:  # the first rows only: then the user's widths stay
            self.fit_columns()

    def fit_columns(self) -> None:
        model = self.model()
        assert isinstance(model, DispatchTableModel)
        self._widths = column_widths(model, QFontMetrics(self.font()))
        for col, width in enumerate(self._widths):
            if col != SENDER_COLUMN:
                self.setColumnWidth(col, width)
        self._fitted_at = model.rowCount()
        self._make_room_for_sender()

    def _make_room_for_sender(self) -> None:
        """Narrow the Request column (long paths) before the stretched Sender gets squeezed."""
        if not self._widths:
            return
        others = sum(self.columnWidth(c) for c in range(len(self._widths))
                     if c not in (SENDER_COLUMN, REQUEST_COLUMN))
        want = min(self._widths[SENDER_COLUMN], SENDER_MIN)
        fitted = self._widths[REQUEST_COLUMN]
        room = self.viewport().width() - others - want
        self.setColumnWidth(REQUEST_COLUMN, max(min(fitted, REQUEST_MIN), min(fitted, room)))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._make_room_for_sender()

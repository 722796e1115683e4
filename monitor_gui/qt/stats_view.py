"""The "Top" table: per-edge calls, rate, errors and duration percentiles, sortable."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.core.graph import SENDER_TO_SIGNAL
from monitor_gui.core.stats import EdgeStats, StatsTable, edge_stats, empty_table
from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.dispatch_model import ColumnsModel
from monitor_gui.qt.models import clock
from monitor_gui.qt.theme import Theme, current_theme, format_ns, html_text, short_signal, tooltip

Index = QModelIndex | QPersistentModelIndex
REFRESH_S = 1.0  # live refresh at most once a second ...
COST_FACTOR = 10  # ... and never spending more than a tenth of the time computing it
SORT_ROLE = Qt.ItemDataRole.UserRole  # the raw number (or name) a column sorts by

# (header, header tooltip); the tooltip is the column's definition (docs/gui.md, "Top").
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Kind", "sender: a sender sending the signal (the dispatch's own duration)\n"
             "receiver: a receiver called by the signal (that receiver's duration)"),
    ("Signal", "The signal"),
    ("Sender / receiver", "The sender, or the receiver (module.qualname)"),
    ("Calls", "Stored dispatches (sender rows) or receiver calls that ran (receiver rows)"),
    ("Calls/s", "Calls whose dispatch started in the last 10 s before the newest stored "
                "dispatch, divided by 10"),
    ("Errors", "Sender rows: dispatches that raised or whose receivers raised.\n"
               "Receiver rows: calls that raised"),
    ("Mean", "Mean duration of the stored calls"),
    ("p50", "Median duration: numpy's percentile (linear interpolation) of the stored calls"),
    ("p95", "95th percentile duration: numpy's percentile (linear) of the stored calls"),
    ("Max", "Longest stored call"),
    ("Last seen", "Start of the latest dispatch that used this edge"),
)
KIND, SIGNAL, NODE, CALLS, RATE, ERRORS, MEAN, P50, P95, MAX, LAST = range(len(COLUMNS))
_NUMBERS = {CALLS: "calls", RATE: "rate", ERRORS: "errors", MEAN: "mean_ns", P50: "p50_ns",
            P95: "p95_ns", MAX: "max_ns", LAST: "last_ts"}


def edge_tooltip(s: EdgeStats) -> str:
    """The figures of one edge as rich text, as the Top table shows them (graph tooltips)."""
    rows = [("calls", f"{s.calls:,}"), ("calls/s (last 10 s)", f"{s.rate:.1f}"),
            ("errors", f"{s.errors:,}"), ("mean", format_ns(s.mean_ns)),
            ("p50", format_ns(s.p50_ns)), ("p95", format_ns(s.p95_ns)),
            ("max", format_ns(s.max_ns)), ("last seen", clock(s.last_ts))]
    cells = "".join(f"<tr><td>{k}&nbsp;</td><td align=right>{html_text(v)}</td></tr>"
                    for k, v in rows)
    return f"<b>{html_text(s.src)} → {html_text(s.dst)}</b><table>{cells}</table>"


class StatsModel(ColumnsModel):
    """One row per edge of a StatsTable; rows keep their place across refreshes."""

    COLUMNS = COLUMNS

    def __init__(self, theme: Theme | None = None) -> None:
        super().__init__()
        self.theme = theme or current_theme()
        self.table = empty_table()
        self._keys: list[tuple[str, str, str]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._keys)

    def key(self, row: int) -> tuple[str, str, str]:
        return self._keys[row]

    def set_table(self, table: StatsTable) -> None:
        """Show ``table``: new edges are inserted, existing rows updated in place; a reset
        only when an edge went away (eviction, a narrower filter), so live updates keep
        the view's scroll position and selection."""
        keys = table.keys()
        where = {k: i for i, k in enumerate(keys)}
        if not all(k in where for k in self._keys):
            self.beginResetModel()
            self.table, self._keys = table, keys
            self.endResetModel()
            return
        old = len(self._keys)
        kept = set(self._keys)
        added = [i for i, k in enumerate(keys) if k not in kept]
        order = np.asarray([where[k] for k in self._keys] + added, np.int64)
        if added:
            self.beginInsertRows(QModelIndex(), old, old + len(added) - 1)
        self.table = table.take(order)
        self._keys = [*self._keys, *(keys[i] for i in added)]
        if added:
            self.endInsertRows()
        if old:
            self.dataChanged.emit(self.index(0, 0), self.index(old - 1, len(COLUMNS) - 1))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._keys):
            return None
        r, col, t = index.row(), index.column(), self.table
        kind, src, dst = self._keys[r]
        signal, node = (dst, src) if kind == SENDER_TO_SIGNAL else (src, dst)
        if role == SORT_ROLE:
            if col in _NUMBERS:
                value = getattr(t, _NUMBERS[col])[r]
                return float(value) if col in (RATE, MEAN, P50, P95) else int(value)
            return self._display(r, col, kind, signal, node) if col == KIND else (
                signal if col == SIGNAL else node)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(r, col, kind, signal, node)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == KIND:
                return None
            if col in (SIGNAL, NODE):
                return tooltip(signal if col == SIGNAL else node)
            return edge_tooltip(t.stats(r))
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= CALLS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == ERRORS and t.errors[r]:
            return self.theme.error
        if role == Qt.ItemDataRole.DecorationRole and col == KIND:
            # The graph's node fill colours: a swatch, as text they are too pale to read.
            return self.theme.sender if kind == SENDER_TO_SIGNAL else self.theme.receiver
        return None

    def _display(self, r: int, col: int, kind: str, signal: str, node: str) -> str:
        t = self.table
        if col == KIND:
            return "sender" if kind == SENDER_TO_SIGNAL else "receiver"
        if col == SIGNAL:
            return short_signal(signal)
        if col == NODE:
            return node
        if col == CALLS:
            return f"{int(t.calls[r]):,}"
        if col == RATE:
            return f"{float(t.rate[r]):.1f}"
        if col == ERRORS:
            return f"{int(t.errors[r]):,}"
        if col == LAST:
            return clock(int(t.last_ts[r]))
        return format_ns(float(getattr(t, _NUMBERS[col])[r]))


class StatsView(QWidget):
    """The Top table over the controller's state; follows the filter (its selection)."""

    edgeActivated = Signal(str, str, str)  # kind, src, dst (graph.Edge.key)

    def __init__(self, controller: MonitorController, theme: Theme | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = StatsModel(theme)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)  # numbers sort as numbers, not as their text
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search = QLineEdit(placeholderText="Filter rows by name…", clearButtonEnabled=True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(sortingEnabled=True, alternatingRowColors=True,
                                showGrid=False, wordWrap=False)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)  # keep the qualname's end
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        for col, width in enumerate((84, 120, 300, 64, 60, 54, 66, 66, 66, 66, 96)):
            self.table.setColumnWidth(col, width)
        header.setSectionResizeMode(NODE, QHeaderView.ResizeMode.Stretch)
        self.table.sortByColumn(CALLS, Qt.SortOrder.DescendingOrder)
        self.table.clicked.connect(self._activate)
        self.table.activated.connect(self._activate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)

        self.compute_s = 0.0  # how long the last refresh took (sets the live interval)
        self.refreshed_at = -1e9
        self.stale = True  # state changed since the last refresh
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self._refresh_if_shown)
        controller.ticked.connect(self._on_tick)
        controller.selectionReset.connect(lambda: self.schedule(0.0))

    # ------------------------------------------------------------------ refreshing
    def _on_tick(self, summary: TickSummary) -> None:
        if summary.appended or summary.evicted or summary.edges_changed:
            interval = max(REFRESH_S, COST_FACTOR * self.compute_s)
            self.schedule(interval - (time.monotonic() - self.refreshed_at))

    def schedule(self, delay_s: float) -> None:
        """Refresh in ``delay_s`` (sooner if one is already due sooner)."""
        self.stale = True
        ms = max(0, round(delay_s * 1000))
        if not self.timer.isActive() or self.timer.remainingTime() > ms:
            self.timer.start(ms)

    def _refresh_if_shown(self) -> None:
        if self.isVisible():  # a hidden tab costs nothing; showEvent catches up
            self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.stale:
            self.schedule(0.0)

    def refresh(self) -> None:
        """Recompute the table from the core now (over the filter's rows, if filtered)."""
        started = time.monotonic()
        c = self.controller
        rows = None if c.filter is None else c.selection.rows.copy()
        self.model.set_table(edge_stats(c.state, rows))
        self.refreshed_at = time.monotonic()
        self.compute_s = self.refreshed_at - started
        self.stale = False

    # ------------------------------------------------------------------ input
    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            kind, src, dst = self.model.key(self.proxy.mapToSource(index).row())
            self.edgeActivated.emit(kind, src, dst)

    def row_of(self, key: tuple[str, str, str]) -> int | None:
        """The view (proxy) row showing edge ``key``, if shown."""
        for r in range(self.proxy.rowCount()):
            if self.model.key(self.proxy.mapToSource(self.proxy.index(r, 0)).row()) == key:
                return r
        return None


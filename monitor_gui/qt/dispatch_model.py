"""The dispatch list's model: the selected rows, each nesting tree parent first."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from monitor_gui.core.listorder import tree_order
from monitor_gui.core.query import DEFAULT_SLOW_MS
from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.dispatch_lines import SIGNAL_COLUMN, TableRow, display, table_row
from monitor_gui.qt.list_order import DisplayOrder
from monitor_gui.qt.theme import Theme, current_theme, format_ns, tooltip
from monitor_gui.qt.tx_marks import callback_lines, tx_mark, tx_tooltip

Index = QModelIndex | QPersistentModelIndex
CACHE_ROWS = 2_000  # TableRow objects kept for painting; only visible rows are asked for


class ColumnsModel(QAbstractTableModel):
    """A flat table whose header is its COLUMNS tuple: titles, or (title, tooltip) pairs."""

    COLUMNS: tuple[str | tuple[str, str], ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        column = self.COLUMNS[section]
        title, tip = column if isinstance(column, tuple) else (column, None)
        if role == Qt.ItemDataRole.DisplayRole:
            return title
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip
        return None


class DispatchTableModel(ColumnsModel):
    """One line per selected dispatch, in the pre-order of the nesting trees.

    The probe sends a dispatch when it ends, so children arrive before their parent;
    the list still shows the parent first, its children right below it. Rows come
    from the controller's selection; the model keeps its own display order and tells
    views with begin/end inserts and removals, and a layout change when a late parent
    gathers rows already shown (never a reset on the hot path), so views keep their
    scroll position and selection while rows stream in and old ones are evicted.
    """

    COLUMNS = ("Time", "Signal", "Sender", "Receivers", "Duration", "Outcome", "Request",
               "Process")

    def __init__(self, controller: MonitorController, theme: Theme | None = None) -> None:
        super().__init__()
        self.slow_ns = int(DEFAULT_SLOW_MS * 1_000_000)  # the window keeps it in step
        self.controller = controller
        self.store = controller.state.store
        self.theme = theme or current_theme()
        self.order = DisplayOrder(self.store.capacity * 3 // 2)  # room to append in place
        self._cache: dict[int, Any] = {}
        controller.rowsEvicted.connect(self._evicted)
        controller.rowsAppended.connect(self._appended)
        controller.selectionAboutToReset.connect(self.beginResetModel)
        controller.selectionReset.connect(self._reset)
        controller.ticked.connect(self._rows_updated)
        self._load(controller.selection.rows)

    # ------------------------------------------------------------------ structure
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.order)

    def _load(self, rows: np.ndarray) -> None:
        roots, perm = tree_order(self.store, rows)
        self.order.set(rows[perm], roots[perm])

    def _reset(self) -> None:
        self._load(self.controller.selection.rows)
        self._cache.clear()
        self.endResetModel()

    def _evicted(self, _n: int) -> None:
        """Remove the rows the store evicted (the controller dropped them from the selection).

        They are nearly always the first lines; a child of a still-stored parent sits
        further down and is first moved to the front, so one removal covers all.
        """
        gone = self.order.rows < self.store.first
        k = int(np.count_nonzero(gone))
        if not k:
            return
        if not gone[:k].all():
            self._permute(np.concatenate([np.flatnonzero(gone), np.flatnonzero(~gone)]))
        self.beginRemoveRows(QModelIndex(), 0, k - 1)
        self.order.drop_front(k)
        self.endRemoveRows()

    def _appended(self, rows: np.ndarray) -> None:
        self._place(np.asarray(rows, np.int64), set())

    def _rows_updated(self, summary: TickSummary) -> None:
        """Rows whose parent arrived later: regroup their trees under it and re-indent."""
        if not summary.updated:
            return
        for absolute in summary.updated:
            self._cache.pop(absolute, None)
        # An adopted row was the root of its own tree until now; its descendants too.
        stale = set(self._shown_trees(np.fromiter(summary.updated, np.int64)).tolist())
        if stale:
            self._place(np.empty(0, np.int64), stale)
        elif len(self.order):
            self.dataChanged.emit(self.index(0, SIGNAL_COLUMN),
                                  self.index(len(self.order) - 1, SIGNAL_COLUMN))

    def _shown_trees(self, roots: np.ndarray) -> np.ndarray:
        """Those of ``roots`` that root a tree the list shows."""
        shown = self.order.roots
        roots = np.unique(roots)
        return roots[np.searchsorted(shown, roots, "right")
                     > np.searchsorted(shown, roots, "left")]

    def _place(self, new: np.ndarray, stale: set[int]) -> None:
        """Show ``new`` rows and re-sort the trees whose root rows are ``stale``."""
        order, store = self.order, self.store
        while True:
            ranges = [order.tree(r) for r in sorted(stale)]
            block = np.concatenate([new, *(order.rows[a:b] for a, b in ranges)])
            roots, perm = tree_order(store, block)
            # A tree already shown that the block joins (a late child, an adopting
            # parent shown a flush earlier) is re-sorted with it.
            if not len(order) or not len(roots) or roots.min() > order.roots[-1]:
                break  # the live case: only new trees, after the last one shown
            joined = set(self._shown_trees(roots).tolist()) - stale
            if not joined:
                break
            stale |= joined
        rows, roots = block[perm], roots[perm]
        n, m = len(order), len(new)
        if not stale and (not n or roots[0] > order.roots[-1]):
            if m:  # the live case: whole new trees after the last one
                self.beginInsertRows(QModelIndex(), n, n + m - 1)
                order.append(rows, roots)
                self.endInsertRows()
            return
        if m:  # announce the new rows at the end, then move everything into place
            self.beginInsertRows(QModelIndex(), n, n + m - 1)
            order.append(new, np.full(m, -1, np.int64))
            self.endInsertRows()
        keep = np.ones(n + m, bool)
        keep[n:] = False
        for a, b in ranges:
            keep[a:b] = False
        rest_rows, rest_roots = order.rows[keep], order.roots[keep]
        at = np.searchsorted(rest_roots, roots, "left")
        final = (np.insert(rest_rows, at, rows), np.insert(rest_roots, at, roots))
        self._permute(None, final)
        for r in stale:
            self._cache.pop(r, None)

    def _permute(self, perm: np.ndarray | None,
                 final: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Reorder the shown rows (``rows[perm]``, or ``final`` as given) as a layout change."""
        self.layoutAboutToBeChanged.emit()
        old = self.order.rows.copy()
        if final is None:
            assert perm is not None
            final = (old[perm], self.order.roots[perm])
        self.order.set(*final)
        persistent = self.persistentIndexList()
        moved = []
        for index in persistent:
            at = self.order.position(int(old[index.row()])) if index.row() < len(old) else None
            moved.append(QModelIndex() if at is None else self.index(at, index.column()))
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    # ------------------------------------------------------------------ data
    def absolute_row(self, r: int) -> int | None:
        if 0 <= r < len(self.order):
            return self.order.at(r)
        return None

    def model_row(self, absolute: int) -> int | None:
        return self.order.position(absolute)

    def dispatch(self, r: int) -> Any:
        """The full core DispatchRow at model row r, or None if it was evicted meanwhile."""
        absolute = self.absolute_row(r)
        if absolute is None or absolute not in self.store:
            return None
        return self.store.row(absolute)

    def line(self, r: int) -> TableRow | None:
        """The cheap per-line summary the table paints (cached: views ask per cell)."""
        absolute = self.absolute_row(r)
        if absolute is None or absolute not in self.store:
            return None
        row = self._cache.get(absolute)
        if row is None:
            if len(self._cache) >= CACHE_ROWS:
                self._cache.clear()
            row = self._cache[absolute] = table_row(self.store, absolute)
        return row

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.column() < len(self.COLUMNS)):
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.TextAlignmentRole):
            return None
        d = self.line(index.row())
        if d is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in (3, 4):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 5 and (d.error or tx_mark(0, d.cb)):
                return self.theme.error
            if col == 4 and d.dur >= self.slow_ns:
                return self.theme.slow
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self._tooltip(index.row(), d, col))
        return display(d, col)

    def _tooltip(self, r: int, d: TableRow, col: int) -> str:
        if col == SIGNAL_COLUMN:
            return d.signal
        if col == 3:
            full = self.dispatch(r)  # hover only: worth reading the receiver rows
            if full is not None:
                return "\n".join([f"{c.name} ({format_ns(c.dur)}, {c.outcome})"
                                  for c in full.receivers] + callback_lines(full))
        if col == 5 and (d.tx_depth or d.cb):
            return display(d, col) + "\n" + tx_tooltip(d.tx_depth, d.cb)
        if col == 6 and d.request:
            return f"{d.request}\nrequest id {d.request_id}"
        return display(d, col)

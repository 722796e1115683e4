"""Qt models over the core: the dispatch table (absolute rows) and the signal list."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.theme import Theme, current_theme, format_ns, short_signal, tooltip

Index = QModelIndex | QPersistentModelIndex
CACHE_ROWS = 2_000  # DispatchRow objects kept for painting; only visible rows are asked for


def clock(ns: int) -> str:
    secs = ns / 1e9
    return time.strftime("%H:%M:%S", time.localtime(secs)) + f".{int(secs % 1 * 1000):03d}"


@dataclass(slots=True)
class TableRow:
    """What one table line shows, read from the store's columns (no receiver/children scans)."""

    ts: int
    depth: int
    signal: str
    sender: str
    nrecv: int
    dur: int
    raised: bool
    error: bool
    request: str
    request_id: str
    proc: str


def table_row(store: Any, absolute: int) -> TableRow:
    ring, get = store.dispatches, store.strings.get
    info = store.requests.get(int(ring.get("request", absolute)))
    request = f"{info.method} {info.path}" if info else ""
    return TableRow(
        ts=int(ring.get("ts", absolute)), depth=int(ring.get("depth", absolute)),
        signal=get(int(ring.get("signal", absolute))) or "",
        sender=get(int(ring.get("sender", absolute))) or "",
        nrecv=int(ring.get("nrecv", absolute)), dur=int(ring.get("dur", absolute)),
        raised=bool(ring.get("raised", absolute)), error=bool(ring.get("error", absolute)),
        request=request, request_id=info.id if info else "",
        proc=store.processes.by_index[int(ring.get("proc", absolute))].label,
    )


class _ColumnsModel(QAbstractTableModel):
    """A flat table whose header is its COLUMNS tuple."""

    COLUMNS: tuple[str, ...] = ()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.COLUMNS)):
            return self.COLUMNS[section]
        return None


class DispatchTableModel(_ColumnsModel):
    """One line per selected dispatch; row r is ``controller.selection.at(r)``.

    The model mirrors the selection only through the controller's begin/end
    notifications (never a reset on the hot path), so views keep their scroll
    position and selection while rows stream in and old ones are evicted.
    """

    COLUMNS = ("Time", "Signal", "Sender", "Receivers", "Duration", "Outcome", "Request",
               "Process")

    def __init__(self, controller: MonitorController, theme: Theme | None = None) -> None:
        super().__init__()
        self.controller = controller
        self.store = controller.state.store
        self.theme = theme or current_theme()
        self._count = len(controller.selection)
        self._cache: dict[int, Any] = {}
        controller.rowsAboutToBeEvicted.connect(self._about_to_evict)
        controller.rowsEvicted.connect(self._evicted)
        controller.rowsAboutToBeAppended.connect(self._about_to_append)
        controller.rowsAppended.connect(self._appended)
        controller.selectionAboutToReset.connect(self.beginResetModel)
        controller.selectionReset.connect(self._reset)
        controller.ticked.connect(self._rows_updated)

    # ------------------------------------------------------------------ structure
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count


    def _about_to_evict(self, n: int) -> None:
        self.beginRemoveRows(QModelIndex(), 0, n - 1)

    def _evicted(self, n: int) -> None:
        self._count -= n
        self.endRemoveRows()

    def _about_to_append(self, n: int) -> None:
        self.beginInsertRows(QModelIndex(), self._count, self._count + n - 1)

    def _appended(self, rows: np.ndarray) -> None:
        self._count += len(rows)
        self.endInsertRows()

    def _reset(self) -> None:
        self._count = len(self.controller.selection)
        self._cache.clear()
        self.endResetModel()

    def _rows_updated(self, summary: TickSummary) -> None:
        """Shown rows whose depth changed (their parent arrived later): repaint the indent."""
        for absolute in summary.updated:
            self._cache.pop(absolute, None)
        shown = [r for r in map(self.model_row, summary.updated)
                 if r is not None and r < self._count]
        if shown:
            self.dataChanged.emit(self.index(min(shown), 1), self.index(max(shown), 1))

    # ------------------------------------------------------------------ data
    def absolute_row(self, r: int) -> int | None:
        if 0 <= r < self._count:
            return self.controller.selection.at(r)
        return None

    def model_row(self, absolute: int) -> int | None:
        return self.controller.selection.index_of(absolute)

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
            if col == 5 and d.error:
                return self.theme.error
            if col == 4 and d.dur >= 100_000_000:
                return self.theme.slow
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(self._tooltip(index.row(), d, col))
        return self._display(d, col)

    @staticmethod
    def _display(d: TableRow, col: int) -> str:
        if col == 0:
            return clock(d.ts)
        if col == 1:
            return ("  " * min(d.depth, 8)) + short_signal(d.signal)
        if col == 2:
            return d.sender
        if col == 3:
            return str(d.nrecv)
        if col == 4:
            return format_ns(d.dur)
        if col == 5:
            return "raised" if d.raised else ("receiver error" if d.error else "ok")
        if col == 6:
            return d.request
        return d.proc

    def _tooltip(self, r: int, d: TableRow, col: int) -> str:
        if col == 1:
            return d.signal
        if col == 3:
            full = self.dispatch(r)  # hover only: worth reading the receiver rows
            if full is not None:
                return "\n".join(f"{c.name} ({format_ns(c.dur)}, {c.outcome})"
                                 for c in full.receivers)
        if col == 6 and d.request:
            return f"{d.request}\nrequest id {d.request_id}"
        return self._display(d, col)


class SignalListModel(_ColumnsModel):
    """Every signal seen or known: checkable name, live count, errors and rate."""

    COLUMNS = ("Signal", "Count", "Errors")
    checksChanged = Signal()

    def __init__(self, controller: MonitorController) -> None:
        super().__init__()
        self.state = controller.state
        self.names: list[str] = []
        self._row: dict[str, int] = {}
        self.unchecked: set[str] = set()  # new signals start checked: nothing hides by surprise
        controller.ticked.connect(self.update_from)
        self.update_from(TickSummary(signals_changed=set(self.state.signals)))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.names)


    def update_from(self, summary: TickSummary) -> None:
        if not self.state.signals and self.names:
            self.beginResetModel()  # the state was cleared: not the hot path
            self.names, self._row = [], {}
            self.endResetModel()
            return
        new = [n for n in summary.signals_changed if n not in self._row and n in self.state.signals]
        if new:
            new.sort()
            self.beginInsertRows(QModelIndex(), len(self.names), len(self.names) + len(new) - 1)
            for name in new:
                self._row[name] = len(self.names)
                self.names.append(name)
            self.endInsertRows()
        changed = [self._row[n] for n in summary.signals_changed if n in self._row]
        if changed:
            self.dataChanged.emit(self.index(min(changed), 1), self.index(max(changed), 2))

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.names)):
            return None
        name = self.names[index.row()]
        stats = self.state.signals.get(name)
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return short_signal(name)
            if stats is None:
                return None
            return f"{stats.count:,}" if col == 1 else (f"{stats.errors:,}" if stats.errors else "")
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return (Qt.CheckState.Unchecked if name in self.unchecked
                    else Qt.CheckState.Checked)
        if role == Qt.ItemDataRole.ToolTipRole and stats is not None:
            return tooltip(f"{name}\n{stats.count:,} dispatches · {stats.rate:.1f}/s · "
                           f"{stats.errors:,} errors · {stats.empty_count:,} with no receiver"
                           + ("\nconnected (topology)" if stats.known else ""))
        if role == Qt.ItemDataRole.UserRole:
            return name  # the full dotted name, for search and "only this"
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and stats is not None:
            if col == 2 and stats.errors:
                return current_theme().error
            if stats.count == 0:
                return current_theme().muted
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole or index.column() != 0:
            return False
        name = self.names[index.row()]
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(
            value, bool) else value
        if checked:
            self.unchecked.discard(name)
        else:
            self.unchecked.add(name)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.checksChanged.emit()
        return True

    def set_checked(self, names: set[str] | None) -> None:
        """Check exactly ``names`` (None: all) and notify once."""
        self.unchecked = set() if names is None else set(self.names) - names
        if self.names:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.names) - 1, 0),
                                  [Qt.ItemDataRole.CheckStateRole])
        self.checksChanged.emit()

    def checked_signals(self) -> frozenset[str] | None:
        """The signal filter: None when nothing is unchecked (show all, including new ones)."""
        if not self.unchecked:
            return None
        return frozenset(n for n in self.names if n not in self.unchecked)

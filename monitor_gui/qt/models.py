"""Qt models over the core: the signal list (and, re-exported, the dispatch table)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont

from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.dispatch_lines import TableRow, clock, table_row  # noqa: F401  (re-exported)
from monitor_gui.qt.dispatch_model import (  # noqa: F401  (re-exported: one import for views)
    ColumnsModel,
    DispatchTableModel,
    Index,
)
from monitor_gui.qt.theme import current_theme, short_signal, tooltip


class SignalListModel(ColumnsModel):
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
            if col == 1:  # live control's muted dispatches count too (shown in italics)
                return f"{stats.count + stats.muted:,}"
            return f"{stats.errors:,}" if stats.errors else ""
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return (Qt.CheckState.Unchecked if name in self.unchecked
                    else Qt.CheckState.Checked)
        if role == Qt.ItemDataRole.ToolTipRole and stats is not None:
            return tooltip(f"{name}\n{stats.count:,} dispatches · {stats.rate:.1f}/s · "
                           f"{stats.errors:,} errors · {stats.empty_count:,} with no receiver"
                           + (f"\n{stats.muted:,} kept back by live control (not streamed)"
                              if stats.muted else "")
                           + ("\nconnected (topology)" if stats.known else ""))
        if role == Qt.ItemDataRole.FontRole and col == 1 and stats is not None and stats.muted:
            font = QFont()
            font.setItalic(True)  # some of these were kept back at the probes (tooltip)
            return font
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

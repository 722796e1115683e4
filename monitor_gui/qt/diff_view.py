"""The "Compare with…" view: what changed between a recording (A) and the window (B).

A thin view of ``core.diff``: a table model of the report's changes, in a dialog, so the
main views are not disturbed. The comparison itself is the core's (``diff_states``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTableView, QVBoxLayout

from monitor_gui.core.diff import CRITERIA, DiffReport, EdgeChange

COLUMNS = ("Change", "Edge", "Calls A", "Calls B", "Errors A", "Errors B", "p95 A (ms)",
           "p95 B (ms)", "New exceptions")
_Index = QModelIndex | QPersistentModelIndex


def _cells(c: EdgeChange) -> tuple[Any, ...]:
    arrow = " -> " if c.kind == "sender->signal" else " => "
    return (c.what, f"{c.src}{arrow}{c.dst}", c.calls_a, c.calls_b, c.errors_a, c.errors_b,
            round(c.p95_a_ns / 1e6, 3), round(c.p95_b_ns / 1e6, 3),
            ", ".join(c.new_exceptions))


class DiffModel(QAbstractTableModel):
    """One row per change, grouped by criterion in order of importance (as the CLI prints)."""

    def __init__(self, report: DiffReport | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[Any, ...]] = []
        if report is not None:
            self.set_report(report)

    def set_report(self, report: DiffReport) -> None:
        self.beginResetModel()  # a whole new comparison: not a hot path
        self._rows = [_cells(c) for c in report.all_changes()]
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        value = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and not isinstance(value, str):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(COLUMNS)):
            return COLUMNS[section]
        return None


class DiffDialog(QDialog):
    """The report: a summary line and the table of changes."""

    def __init__(self, report: DiffReport, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare runs")
        self.model = DiffModel(report, self)
        counts = ", ".join(f"{len(report.changes.get(c, []))} {c}" for c in CRITERIA)
        self.summary = QLabel(
            f"A: {report.a} ({report.dispatches_a:,} dispatches)<br>"
            f"B: {report.b} ({report.dispatches_b:,} dispatches)<br>"
            + (counts if report.all_changes() else "<b>No differences.</b>"))
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.summary, self.table, buttons):
            layout.addWidget(w)
        self.resize(900, 500)

"""The "Diagnostics" tab: wiring findings from the core, grouped by kind, sortable, with a badge."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.core.diagnostics import KINDS, Finding, counts, diagnose
from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.theme import Theme, current_theme, html_text, short_signal

Index = QModelIndex | QPersistentModelIndex
REFRESH_S = 2.0  # live refresh at most this often ...
COST_FACTOR = 10  # ... and never spending more than a tenth of the time computing it
SORT_ROLE = Qt.ItemDataRole.UserRole
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Kind", "What is wrong (errors first); the swatch is its severity"),
    ("Signal", "The signal"),
    ("Receiver", "The receiver (module.qualname); empty for a finding about the signal"),
    ("Sender", "The sender it was connected for, or that sent it; empty: any"),
    ("Connected at", "Where connect() or @receiver connected it (file:line); in italics "
                     "where the probe did not see the connect() and gives the def line"),
    ("Count", "The calls, dispatches or names the finding counts"),
    ("Detail", "Why it is a finding"),
)
KIND, SIGNAL, RECEIVER, SENDER, WHERE, COUNT, DETAIL = range(len(COLUMNS))
ORDER = {kind: i for i, kind in enumerate(KINDS)}


def severity_colour(theme: Theme, severity: str) -> QColor:
    return {"error": theme.error, "warning": theme.slow}.get(severity, theme.accent)


def swatch(colour: QColor, size: int = 10) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size, size)
    painter.end()
    return QIcon(pixmap)


class DiagnosticsModel(QAbstractTableModel):
    """One row per finding."""

    def __init__(self, theme: Theme | None = None) -> None:
        super().__init__()
        self.theme = theme or current_theme()
        self.findings: list[Finding] = []

    def set_findings(self, findings: list[Finding]) -> bool:
        """Show ``findings``; False (and nothing touched) when they are the same."""
        if findings == self.findings:
            return False
        self.beginResetModel()  # every few seconds at most: a reset is cheap here
        self.findings = list(findings)
        self.endResetModel()
        return True

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.findings)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][1]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.findings):
            return None
        f, col = self.findings[index.row()], index.column()
        if role == SORT_ROLE:
            if col == KIND:
                return ORDER[f.kind]
            return f.count if col == COUNT else self._display(f, col)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(f, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(f)
        if role == Qt.ItemDataRole.DecorationRole and col == KIND:
            return severity_colour(self.theme, f.severity)  # (a colour: the view paints it)
        if role == Qt.ItemDataRole.FontRole and col == WHERE and not f.site_known:
            font = QFont()
            font.setItalic(True)  # a def line standing in for the unseen connect() site
            return font
        if role == Qt.ItemDataRole.ForegroundRole and col == WHERE and not f.site_known:
            return self.theme.muted
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COUNT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(f: Finding, col: int) -> str:
        if col == KIND:
            return KINDS[f.kind][1]
        if col == SIGNAL:
            return short_signal(f.signal)
        if col == RECEIVER:
            return f.receiver
        if col == SENDER:
            return f.sender
        if col == WHERE:
            return f"{f.file}:{f.line}" if f.file else ""
        if col == COUNT:
            return f"{f.count:,}" if f.count else ""
        return f.detail

    @staticmethod
    def _tooltip(f: Finding) -> str:
        rows = [("kind", f"{KINDS[f.kind][1]} ({f.severity})"), ("signal", f.signal),
                ("receiver", f.receiver), ("sender", f.sender or "any"),
                ("connected at" if f.site_known else "defined at", f.where), ("", f.detail)]
        cells = "".join(f"<tr><td><b>{k}</b>&nbsp;</td><td>{html_text(v)}</td></tr>"
                        for k, v in rows if v)
        return f"<table>{cells}</table>"


class FindingsProxy(QSortFilterProxyModel):
    """Sorts by SORT_ROLE; filters by the search text and, when chosen, one kind."""

    kind: str | None = None

    def set_kind(self, kind: str | None) -> None:
        # Qt >= 6.9 deprecates invalidateFilter() for this pair; 6.5 has only the former.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.kind = kind
            self.endFilterChange()
        else:
            self.kind = kind
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        model = self.sourceModel()
        if self.kind is not None and model.findings[row].kind != self.kind:  # type: ignore[attr-defined]
            return False
        return super().filterAcceptsRow(row, parent)


class DiagnosticsView(QWidget):
    """The findings of the controller's state, refreshed live (throttled) and on load; its
    tab's title carries the count and its icon the worst severity (the badge)."""

    findingActivated = Signal(str, str)  # signal, receiver ("" for a signal's finding)

    def __init__(self, controller: MonitorController, theme: Theme | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.model = DiagnosticsModel(theme)
        self.proxy = FindingsProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.kinds = QComboBox()
        self.kinds.setToolTip("Show one kind of finding")
        self.kinds.currentIndexChanged.connect(self._filter_kind)
        self.search = QLineEdit(placeholderText="Filter findings by name or file…",
                                clearButtonEnabled=True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(sortingEnabled=True, alternatingRowColors=True,
                                showGrid=False, wordWrap=False)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setHighlightSections(False)
        for col, width in enumerate((260, 120, 300, 120, 320, 56)):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setSectionResizeMode(DETAIL, QHeaderView.ResizeMode.Stretch)
        self.table.sortByColumn(KIND, Qt.SortOrder.AscendingOrder)  # grouped, errors first
        self.table.clicked.connect(self._activate)
        self.table.activated.connect(self._activate)
        bar = QHBoxLayout()
        bar.addWidget(self.kinds)
        bar.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.tabs: QTabWidget | None = None
        self.compute_s = 0.0
        self.refreshed_at = -1e9
        self.timer = QTimer(self, singleShot=True)
        self.timer.timeout.connect(self.refresh)
        controller.ticked.connect(self._on_tick)
        self._fill_kinds()

    def attach(self, tabs: QTabWidget) -> None:
        """Become a tab of ``tabs``, whose title shows the count."""
        self.tabs = tabs
        tabs.addTab(self, "Diagnostics")
        self.refresh()

    # ------------------------------------------------------------------ refreshing
    def _on_tick(self, summary: TickSummary) -> None:
        if summary.appended or summary.evicted or summary.topology_changed \
                or summary.signals_changed or summary.processes_changed:
            # Even while hidden: the tab's badge counts the findings.
            interval = max(REFRESH_S, COST_FACTOR * self.compute_s)
            wait = interval - (time.monotonic() - self.refreshed_at)
            if summary.processes_changed and not self.controller.state.processes:
                wait = 0.0  # cleared: no stale findings
            ms = max(0, round(wait * 1000))
            if not self.timer.isActive() or self.timer.remainingTime() > ms:
                self.timer.start(ms)

    def refresh(self) -> None:
        """Diagnose the state now."""
        started = time.monotonic()
        changed = self.model.set_findings(diagnose(self.controller.state))
        self.refreshed_at = time.monotonic()
        self.compute_s = self.refreshed_at - started
        if changed:
            self._fill_kinds()
        self._update_badge()

    def _fill_kinds(self) -> None:
        chosen = self.kinds.currentData()
        self.kinds.blockSignals(True)
        self.kinds.clear()
        self.kinds.addItem(f"All kinds ({len(self.model.findings)})", None)
        for kind, n in counts(self.model.findings).items():
            severity, title = KINDS[kind]
            self.kinds.addItem(swatch(severity_colour(self.model.theme, severity)),
                               f"{title} ({n})", kind)
        at = self.kinds.findData(chosen)
        self.kinds.setCurrentIndex(max(at, 0))
        self.kinds.blockSignals(False)
        self._filter_kind()

    def _filter_kind(self) -> None:
        self.proxy.set_kind(self.kinds.currentData())

    def _update_badge(self) -> None:
        if self.tabs is None:
            return
        at = self.tabs.indexOf(self)
        findings = self.model.findings
        self.tabs.setTabText(at, f"Diagnostics ({len(findings)})" if findings else "Diagnostics")
        worst = min((ORDER[f.kind] for f in findings), default=None)
        icon = QIcon() if worst is None else swatch(
            severity_colour(self.model.theme, KINDS[list(KINDS)[worst]][0]))
        self.tabs.setTabIcon(at, icon)
        self.tabs.setTabToolTip(at, ", ".join(
            f"{n} {kind}" for kind, n in counts(findings).items() if n) or "No findings")

    # ------------------------------------------------------------------ input
    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            f = self.model.findings[self.proxy.mapToSource(index).row()]
            self.findingActivated.emit(f.signal, f.receiver)

    def row_of(self, kind: str, receiver: str) -> int | None:
        """The view row showing the first finding of ``kind`` about ``receiver``."""
        for r in range(self.proxy.rowCount()):
            f = self.model.findings[self.proxy.mapToSource(self.proxy.index(r, 0)).row()]
            if f.kind == kind and f.receiver == receiver:
                return r
        return None


"""The "Diagnostics" tab: wiring findings from the core, grouped by kind, sortable, with a badge."""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.core.diagnostics import KINDS, counts, diagnose
from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.diagnostics_model import (
    DETAIL,
    KIND,
    ORDER,
    SORT_ROLE,
    DiagnosticsModel,
    Index,
    severity_colour,
    swatch,
)
from monitor_gui.qt.theme import Theme, html_text

REFRESH_S = 2.0  # live refresh at most this often ...
COST_FACTOR = 10  # ... and never spending more than a tenth of the time computing it


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
        self.proxy.setFilterRole(SORT_ROLE)  # full names and paths, not the shortened ones
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
        for col, width in enumerate((165, 105, 175, 120, 46, 230)):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setSectionResizeMode(DETAIL, QHeaderView.ResizeMode.Stretch)
        self.table.sortByColumn(KIND, Qt.SortOrder.AscendingOrder)  # grouped, errors first
        self.table.clicked.connect(self._activate)
        self.table.activated.connect(self._activate)
        # The current finding in full: the Detail column is the first to be cut short.
        self.detail = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)
        bar = QHBoxLayout()
        bar.addWidget(self.kinds)
        bar.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
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
            severity, title, _long = KINDS[kind]
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

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.detail.clear()
            return
        f = self.model.findings[self.proxy.mapToSource(current).row()]
        where = f"connected at {f.where}" if f.site_known else f.where
        self.detail.setText(
            f"<b>{html_text(KINDS[f.kind][2])}</b>: {html_text(f.signal)} → "
            f"{html_text(f.receiver or '(no receiver)')}. {html_text(f.detail)}"
            + (f"<br><span style='color:{self.model.theme.muted.name()}'>"
               f"{html_text(where)}</span>" if where else ""))

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


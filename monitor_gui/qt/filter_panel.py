"""The side panel that builds the one Filter shared by the graph, timeline and list."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.core.query import DEFAULT_SLOW_MS, Filter
from monitor_gui.qt.models import SignalListModel
from monitor_gui.qt.theme import html_text, short_receiver, tooltip
from monitor_gui.qt.tx_marks import TX_CHOICES

ALL_PROCESSES = "All processes"


class FilterPanel(QWidget):
    """Signals with live counts and checkboxes, a search box, process and outcome filters."""

    filterChanged = Signal(object)  # a core Filter

    def __init__(self, model: SignalListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.node_filter: tuple[str, str] | None = None  # ("sender"|"receiver", name)
        self._quiet = False  # focus_on() changes several widgets, then emits once
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterRole(Qt.ItemDataRole.UserRole)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(Qt.ItemDataRole.UserRole)

        self.search = QLineEdit(placeholderText="Search signals…", clearButtonEnabled=True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.list = QTreeView(rootIsDecorated=False, uniformRowHeights=True,
                              alternatingRowColors=True)
        self.list.setModel(self.proxy)
        self.list.setSortingEnabled(True)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        self.only_button = QPushButton("Only this")
        self.all_button.clicked.connect(lambda: model.set_checked(None))
        self.none_button.clicked.connect(lambda: model.set_checked(set()))
        self.only_button.clicked.connect(self.only_current)
        buttons = QHBoxLayout()
        for b in (self.all_button, self.none_button, self.only_button):
            b.setAutoDefault(False)
            buttons.addWidget(b)

        self.node_chip = QLabel()
        self.node_chip.setWordWrap(True)
        self.node_clear = QToolButton(text="✕", toolTip="Clear the node filter")
        self.node_clear.clicked.connect(lambda: self.set_node_filter(None))
        chip = QHBoxLayout()
        chip.addWidget(self.node_chip, 1)
        chip.addWidget(self.node_clear)

        self.process = QComboBox()
        self.process.addItem(ALL_PROCESSES)
        self.outcome = QComboBox()
        self.outcome.addItems(["All outcomes", "Errors only", "Slow only"])
        self.slow_ms = QSpinBox(suffix=" ms", minimum=1, maximum=600_000,
                                value=round(DEFAULT_SLOW_MS))
        self.slow_ms.setToolTip("A dispatch is slow when it takes at least this long")
        self.text = QLineEdit(placeholderText="Text in names or kwargs…", clearButtonEnabled=True)
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.emit_filter)
        self.text.textChanged.connect(self._debounce.start)
        # The search narrows the views too, not only this list (see current_filter).
        self.search.textChanged.connect(self._debounce.start)
        self.transaction = QComboBox()
        self.transaction.addItems([label for label, _ in TX_CHOICES])
        self.transaction.setToolTip("Dispatches that ran inside transaction.atomic(), or whose "
                                    "on_commit() callbacks a rollback discarded")
        outcome_row = QHBoxLayout()
        outcome_row.addWidget(self.outcome, 1)
        outcome_row.addWidget(self.slow_ms)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(_heading("Signals"))
        layout.addWidget(self.search)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        layout.addLayout(chip)
        layout.addWidget(_heading("Dispatches"))
        layout.addWidget(self.process)
        layout.addLayout(outcome_row)
        layout.addWidget(self.transaction)
        layout.addWidget(self.text)

        model.checksChanged.connect(self.emit_filter)
        self.process.currentIndexChanged.connect(self.emit_filter)
        self.outcome.currentIndexChanged.connect(self.emit_filter)
        self.transaction.currentIndexChanged.connect(self.emit_filter)
        self.slow_ms.valueChanged.connect(self.emit_filter)
        self._update_chip()

    # ------------------------------------------------------------------ actions
    def only_current(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.model.set_checked({self.proxy.data(index, Qt.ItemDataRole.UserRole)})

    def only_signal(self, name: str) -> None:
        """Check only ``name``; doing it again for the same signal shows all again."""
        if self.model.checked_signals() == frozenset({name}):
            self.model.set_checked(None)
        else:
            self.model.set_checked({name})

    def set_node_filter(self, node: tuple[str, str] | None) -> None:
        """Filter by a sender or receiver node (clicking it again clears it)."""
        self.node_filter = None if node == self.node_filter else node
        self._update_chip()
        self.emit_filter()

    def focus_on(self, node: tuple[str, str] | None, signal: str | None = None) -> None:
        """Filter to one node, in one filter change: a signal checks only it, a sender or
        receiver becomes the node filter (with ``signal``: only that signal's dispatches,
        an edge); None shows every signal and node again."""
        self._quiet = True
        try:
            kind = node[0] if node else None
            if node and kind == "signal":
                signal = node[1]
            self.model.set_checked({signal} if signal else None)
            self.node_filter = node if kind in ("sender", "receiver") else None
        finally:
            self._quiet = False
        self._update_chip()
        self.emit_filter()

    def _update_chip(self) -> None:
        node = self.node_filter
        self.node_chip.setVisible(node is not None)
        self.node_clear.setVisible(node is not None)
        if node is not None:
            name = short_receiver(node[1]) if node[0] == "receiver" else node[1]
            self.node_chip.setText(f"<b>{node[0]}</b>: {html_text(name)}")
            self.node_chip.setToolTip(tooltip(node[1]))

    def set_processes(self, labels: list[str]) -> None:
        """Keep the process combo in sync with the processes seen (all of them after a clear)."""
        current = [self.process.itemText(i) for i in range(1, self.process.count())]
        if not labels and current:
            self.process.setCurrentIndex(0)
            while self.process.count() > 1:
                self.process.removeItem(1)
            return
        for label in labels:
            if label not in current:
                self.process.addItem(label)

    def current_filter(self) -> Filter:
        node = self.node_filter
        outcome = {1: "raised", 2: "slow"}.get(self.outcome.currentIndex())
        process = self.process.currentText()
        signals = self.model.checked_signals()
        needle = self.search.text().strip().lower()
        if needle:  # the signals the list shows: checked ones whose name holds the text
            found = frozenset(n for n in self.model.names if needle in n.lower())
            signals = found if signals is None else signals & found
        return Filter(
            signals=signals,
            senders=frozenset({node[1]}) if node and node[0] == "sender" else None,
            receivers=frozenset({node[1]}) if node and node[0] == "receiver" else None,
            processes=None if process == ALL_PROCESSES else frozenset({process}),
            outcome=outcome,  # type: ignore[arg-type]
            slow_ms=float(self.slow_ms.value()),
            text=self.text.text().strip(),
            tx=TX_CHOICES[self.transaction.currentIndex()][1],  # type: ignore[arg-type]
        )

    def emit_filter(self, *_: Any) -> None:
        if not self._quiet:
            self.filterChanged.emit(self.current_filter())


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    label.setStyleSheet("color: palette(placeholder-text); margin-top: 4px;")
    return label

"""The "Live control" panel and menus: mute or sample a signal or sender at the probes."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from django_probe import wire
from monitor_gui.core.control import LiveControl, describe

Index = QModelIndex | QPersistentModelIndex
DEFAULT_EVERY = 10  # what "Sample 1 in N…" proposes first
COLUMNS = ("Rule", "Kept back", "")


class RulesModel(QAbstractTableModel):
    """The active rules, one row each: what it does and how many dispatches it kept back."""

    def __init__(self, live: LiveControl, state: Any) -> None:
        super().__init__()
        self.live = live
        self.state = state
        self.rules: list[wire.Rule] = []
        self.muted: dict[tuple[str | None, str | None], int] = {}

    def reload(self) -> None:
        """Take the rule set again (a rule added or removed: few rows, a reset is fine)."""
        self.beginResetModel()
        self.rules = self.live.rules
        self.muted = self.live.muted_per_rule(self.state.muted_counts)
        self.endResetModel()

    def refresh_counts(self) -> None:
        muted = self.live.muted_per_rule(self.state.muted_counts)
        if muted != self.muted and self.rules:
            self.muted = muted
            self.dataChanged.emit(self.index(0, 1), self.index(len(self.rules) - 1, 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's idiom)
        return 0 if parent.isValid() else len(self.rules)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(COLUMNS)):
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rules):
            return None
        rule = self.rules[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return describe(rule, short=True)
            if col == 1:
                return f"{self.muted.get((rule.signal, rule.sender), 0):,}"
            return None
        if role == Qt.ItemDataRole.ToolTipRole and col < 2:
            return (f"{describe(rule)}\nThe receivers still run; the probes only stop "
                    "streaming these dispatches and count them (Kept back).")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class LiveControlPanel(QWidget):
    """Lists the rules with a remove button each, says which processes apply them, and
    offers the menus that add rules (graph nodes, list rows). Only the GUI thread uses it;
    the rule set reaches the socket thread through ``sender.offer`` (a message maker)."""

    rulesChanged = Signal()

    def __init__(self, live: LiveControl, state: Any, sender: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.live = live
        self.state = state
        # monitor_gui.control.ControlSender, None when not listening ("sender_": QObject
        # has a sender() of its own)
        self.sender_ = sender
        self.error: str | None = None if sender is not None else "not listening"
        self.endpoint: str | None = None
        self.model = RulesModel(live, state)
        self.summary = QLabel(wordWrap=True)
        self.summary.setObjectName("live-control-summary")
        self.status_label = QLabel()  # the window puts it in the status bar
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.clear_button = QPushButton("Remove all")
        self.clear_button.clicked.connect(self.clear_rules)
        hint = QLabel("Right-click a signal or sender in the graph, or a dispatch in the "
                      "list, to mute or sample it at the probes.", wordWrap=True)
        hint.setObjectName("live-control-hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.view)
        layout.addWidget(hint)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)  # the table keeps to its rows; the dock's room goes below
        self.reload()

    # ------------------------------------------------------------------ socket state
    def set_endpoint(self, endpoint: str) -> None:
        self.endpoint, self.error = endpoint, None
        self.refresh()

    def set_error(self, message: str) -> None:
        self.error = message
        self.refresh()

    # ------------------------------------------------------------------ rules
    def add_rule(self, signal: str | None, sender: str | None, every: int = 0) -> None:
        self.live.set(signal, sender, every)
        self._changed()

    def remove_rule(self, signal: str | None, sender: str | None) -> None:
        if self.live.remove(signal, sender):
            self._changed()

    def clear_rules(self) -> None:
        self.live.clear()
        self._changed()

    def _changed(self) -> None:
        if self.sender_ is not None:
            self.sender_.offer(self.live.message)  # sent at the worker's next tick
        self.reload()
        self.rulesChanged.emit()

    def new_process(self) -> None:
        """A process instance said Hello: send it the rules now, not at the next resend."""
        if self.sender_ is not None:
            self.sender_.nudge()

    def reload(self) -> None:
        self.model.reload()
        for row, rule in enumerate(self.model.rules):
            button = QToolButton(text="Remove")
            button.setToolTip(f"Remove: {describe(rule)}")
            button.clicked.connect(lambda _=False, r=rule: self.remove_rule(r.signal, r.sender))
            self.view.setIndexWidget(self.model.index(row, 2), button)
        self.clear_button.setEnabled(bool(self.model.rules))
        # As tall as its rows (a few rules), so the panel leaves the Details room.
        rows = max(1, min(len(self.model.rules), 8))
        self.view.setFixedHeight(self.view.horizontalHeader().height() + 4
                                 + rows * self.view.verticalHeader().defaultSectionSize())
        self.refresh()

    def refresh(self) -> None:
        """The counts and who applies the rules (on every tick: cheap, a few rules)."""
        self.model.refresh_counts()
        coverage = self.live.coverage(self.state.processes.values(), time.time_ns())
        if self.error is not None:
            text = f"Live control is off: {self.error}"
        else:
            text = coverage.text()
            if self.live.digest:
                text += f" (digest {self.live.digest})"
        self.summary.setText(text)
        self.status_label.setText("" if not len(self.live) and self.error is None
                                  else f"Live control: {coverage.text()}")
        self.status_label.setVisible(bool(len(self.live)))

    # ------------------------------------------------------------------ menus
    def add_actions(self, menu: QMenu, signal: str | None, sender: str | None,
                    label: str) -> None:
        """Mute / Sample 1 in N… / Unmute entries for (signal, sender) under ``label``."""
        rule = self.live.rule_for(signal, sender)
        if rule is None or rule.every != 0:
            menu.addAction(f"Mute {label} at the probes",
                           lambda: self.add_rule(signal, sender, 0))
        menu.addAction(f"Sample 1 in N of {label}…", lambda: self.ask_sample(signal, sender))
        if rule is not None:
            menu.addAction(f"Unmute {label}" if rule.every == 0 else f"Stop sampling {label}",
                           lambda: self.remove_rule(signal, sender))

    def node_menu(self, kind: str, name: str) -> QMenu | None:
        """The menu for a graph node: signals and senders can be controlled."""
        if kind not in ("signal", "sender"):
            return None
        menu = QMenu(self)
        short = name.rsplit(".", 1)[-1] if kind == "signal" else name
        self.add_actions(menu, name if kind == "signal" else None,
                         name if kind == "sender" else None, short)
        return menu

    def dispatch_menu(self, signal: str, sender: str) -> QMenu:
        """The menu for a dispatch: its signal, its sender, or the pair."""
        menu = QMenu(self)
        short = signal.rsplit(".", 1)[-1]
        self.add_actions(menu, signal, None, short)
        menu.addSeparator()
        self.add_actions(menu, None, sender, sender)
        menu.addSeparator()
        self.add_actions(menu, signal, sender, f"{short} from {sender}")
        return menu

    def ask_sample(self, signal: str | None, sender: str | None) -> None:
        rule = self.live.rule_for(signal, sender)
        every, ok = QInputDialog.getInt(
            self, "Sample at the probes", "Stream 1 dispatch in N:",
            rule.every if rule is not None and rule.every else DEFAULT_EVERY, 2,
            wire.MAX_SAMPLE)
        if ok:
            self.add_rule(signal, sender, every)

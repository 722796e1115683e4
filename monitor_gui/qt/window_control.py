"""The window's live-control wiring: the panel's dock, the right-click menus (a mixin)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QDockWidget

from monitor_gui.core.control import LiveControl, node_marks
from monitor_gui.qt.control_view import LiveControlPanel


class ControlWiring:
    """Mixed into MainWindow (which provides the widgets and state used here)."""

    state: Any
    graph: Any
    table: Any
    table_model: Any
    filters: Any
    status: Any
    live_control: LiveControlPanel
    _processes_seen: int

    def _make_live_control(self, live: LiveControl | None, sender: Any) -> LiveControlPanel:
        panel = LiveControlPanel(live or LiveControl(), self.state, sender)
        self._processes_seen = 0
        self.status.addPermanentWidget(panel.status_label)
        self.graph.nodeMenuRequested.connect(self._node_menu)
        # The graph marks what the rules mute or sample, as soon as they change.
        panel.rulesChanged.connect(
            lambda: self.graph.set_control_marks(node_marks(panel.live.rules)))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        signals = self.filters.list  # the Filters panel's signal list
        signals.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        signals.customContextMenuRequested.connect(self._signal_list_menu)
        return panel

    def _place_live_control(self) -> None:
        """Under Details, as tall as it needs: Details keeps most of the column."""
        docks = {d.objectName(): d for d in self.findChildren(QDockWidget)}  # type: ignore[attr-defined]
        pair = [docks.get("dock-details"), docks.get("dock-live control")]
        if None not in pair:
            self.resizeDocks(pair, [700, 200], Qt.Orientation.Vertical)  # type: ignore[attr-defined]
            # Nothing to control without a listener (a recording viewed, an export).
            pair[1].setVisible(self.live_control.sender_ is not None)

    def _control_tick(self, processes_changed: bool) -> None:
        """Each tick: a new process instance gets the rules now; figures refresh."""
        if processes_changed:
            seen, self._processes_seen = self._processes_seen, len(self.state.processes)
            if self._processes_seen > seen:  # (fewer: the window was cleared)
                self.live_control.new_process()
        self.live_control.refresh()

    def _node_menu(self, kind: str, name: str, where: Any = None) -> Any:
        menu = self.live_control.node_menu(kind, name)
        if menu is not None and where is not None:
            menu.popup(where if isinstance(where, QPoint) else QCursor.pos())
        return menu

    def _signal_list_menu(self, pos: QPoint) -> Any:
        signals = self.filters.list
        index = signals.indexAt(pos)
        name = index.data(Qt.ItemDataRole.UserRole) if index.isValid() else None
        if not name:
            return None
        menu = self.live_control.node_menu("signal", name)
        menu.popup(signals.viewport().mapToGlobal(pos))
        return menu

    def _table_menu(self, pos: QPoint) -> Any:
        index = self.table.indexAt(pos)
        row = self.table_model.dispatch(index.row()) if index.isValid() else None
        if row is None:
            return None
        menu = self.live_control.dispatch_menu(row.signal, row.sender)
        menu.popup(self.table.viewport().mapToGlobal(pos))
        return menu

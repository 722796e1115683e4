"""The main window: lays out the views and wires them to the controller (no business logic)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QMainWindow,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monitor_gui.qt.controller import MonitorController, TickSummary
from monitor_gui.qt.details import DetailsPane
from monitor_gui.qt.diagnostics_view import DiagnosticsView
from monitor_gui.qt.dispatch_table import DispatchTable
from monitor_gui.qt.filter_panel import FilterPanel
from monitor_gui.qt.graph_panel import GraphPanel
from monitor_gui.qt.graph_view import GraphView
from monitor_gui.qt.models import DispatchTableModel, SignalListModel
from monitor_gui.qt.stats_view import StatsView
from monitor_gui.qt.status import Banner, StatusBar
from monitor_gui.qt.theme import Theme, current_theme, follow_system_scheme
from monitor_gui.qt.timeline_data import TimelineData
from monitor_gui.qt.timeline_flame import receiver_spans
from monitor_gui.qt.timeline_lanes import lane_keys, lane_title
from monitor_gui.qt.timeline_view import TimelineView
from monitor_gui.qt.window_actions import WindowActions
from monitor_gui.qt.window_control import ControlWiring
from monitor_gui.qt.window_files import LANE_COLUMNS, FilesAndSettings
from monitor_gui.qt.window_graph import GraphWiring

GRAPH_EVERY_S = 0.25  # under a busy stream, graph updates at most this often (on_tick)
BUSY_RATE = 5_000.0  # events/s from which a stream counts as busy


class MainWindow(GraphWiring, ControlWiring, FilesAndSettings, WindowActions, QMainWindow):
    """Graph on top, timeline in the middle, dispatch list below; filters left, details right."""

    rowSelected = Signal(int)
    recordingSaved = Signal(str)  # a path save_recording wrote (the close guard listens)

    def __init__(self, controller: MonitorController, endpoint: str | None,
                 settings: QSettings | None = None, theme: Theme | None = None,
                 live_control: Any = None, control_sender: Any = None) -> None:
        super().__init__()
        self.controller = controller
        self.state = controller.state
        self.endpoint = endpoint
        self.settings = settings
        self.theme = theme or current_theme()
        self.setWindowTitle("Django Signal Monitor")
        self.resize(1600, 1000)
        self.lane_column = "signal"
        self._dimmed_at = 0.0
        self._dim_rows: list[np.ndarray] = []  # filtered rows not yet looked at for dimming
        self._counts: dict[tuple[str, str, str], int] = {}  # edge calls under the filter
        self._graph_at = 0.0  # when the graph was last told (see on_tick)
        self._graph_fired: set[tuple[str, str, str]] = set()  # edges fired since
        self._graph_timer = QTimer(self, singleShot=True)
        self._graph_timer.timeout.connect(self._update_graph)

        self.graph = GraphView(theme=self.theme)
        self.graph_panel = GraphPanel(self.graph)
        self.graph.figures = self._edge_figures  # edge tooltips show the Top table's figures
        self.timeline_data = TimelineData(self._string, self._lane_label,
                                          capacity=self.state.store.capacity * 3 // 2)
        self.timeline = TimelineView(
            self.timeline_data, theme=self.theme,
            receivers=lambda rows: receiver_spans(self.state.store, rows),
            stored=lambda: len(self.state.store))
        self.table_model = DispatchTableModel(controller, self.theme)
        self.table = self._make_table()
        self.signal_model = SignalListModel(controller)
        self.filters = FilterPanel(self.signal_model)
        self.top = StatsView(controller, self.theme)  # the "Top" table, a tab by the list
        self.details = DetailsPane(self.state.store, theme=self.theme)
        self.banner = Banner(endpoint)
        self.status = StatusBar(controller, endpoint)
        self.setStatusBar(self.status)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.graph_panel)
        self.splitter.addWidget(self.timeline)
        self.bottom_tabs = QTabWidget(documentMode=True)
        self.bottom_tabs.addTab(self.table, "Dispatches")
        self.bottom_tabs.addTab(self.top, "Top")
        self.diagnostics = DiagnosticsView(controller, self.theme)  # "Diagnostics (n)"
        self.diagnostics.attach(self.bottom_tabs)
        self.splitter.addWidget(self.bottom_tabs)
        # The graph gets the most room: at 1600x1000 it shows ~22 rows a column at 100 %.
        self.splitter.setSizes([580, 170, 190])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self._dock("Filters", self.filters, Qt.DockWidgetArea.LeftDockWidgetArea, 290)
        self._dock("Details", self.details, Qt.DockWidgetArea.RightDockWidgetArea, 330)
        self.live_control = self._make_live_control(live_control, control_sender)
        self._dock("Live control", self.live_control, Qt.DockWidgetArea.RightDockWidgetArea, 330)
        self._place_live_control()
        self._make_actions()
        self._connect()
        self.restore_settings()
        self.on_tick(TickSummary(processes_changed=True, topology_changed=True,
                                 signals_changed=set(self.state.signals)))

    # ------------------------------------------------------------------ construction
    def _make_table(self) -> QTableView:
        return DispatchTable(self.table_model)  # parent-first order, dotted names, fitted

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea, width: int) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

    def _connect(self) -> None:
        c = self.controller
        c.ticked.connect(self.on_tick)
        c.rowsEvicted.connect(lambda n: self.timeline_data.evict_before(self.state.store.first))
        c.rowsAppended.connect(self._timeline_append)
        c.rowsAppended.connect(self._autoscroll)
        c.rowsAppended.connect(self._collect_dim_rows)
        c.selectionReset.connect(self._rebuild_timeline)
        c.selectionReset.connect(self._keep_selected_row)
        # A new filter, a clear or an opened recording: rows queued for dimming are stale
        # (after a clear their absolute numbers even start again at 0).
        c.selectionReset.connect(self._dim_graph)
        c.pausedChanged.connect(self.pause_action.setChecked)
        c.pausedChanged.connect(lambda p: self.pause_action.setText("Resume" if p else "Pause"))
        self.filters.filterChanged.connect(self.apply_filter)
        # The graph calls an edge slow with the same threshold as the "slow only" filter.
        self.filters.slow_ms.valueChanged.connect(self._set_slow_threshold)
        self.graph.nodeClicked.connect(self.on_node_clicked)
        self.graph_panel.searchFound.connect(self.focus_node)
        self.graph_panel.focusCleared.connect(self.leave_focus)
        self.top.edgeActivated.connect(self.on_edge_activated)
        self.diagnostics.findingActivated.connect(self.on_finding_activated)
        self.timeline.dispatchClicked.connect(self.select_row)
        self.timeline.followChanged.connect(self.follow_action.setChecked)
        self.details.rowRequested.connect(self.select_row)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)

    # ------------------------------------------------------------------ updates
    def on_tick(self, summary: TickSummary) -> None:
        if summary.edges_changed or summary.topology_changed or summary.fired \
                or summary.signals_changed or not self.state.graph.edges():
            # Under a busy stream the graph is redrawn at most every GRAPH_EVERY_S: laying
            # it out again is the costliest thing a view does, and new senders keep
            # changing its rows. A quiet monitor shows each change at once.
            self._graph_fired.update(summary.fired)
            wait = GRAPH_EVERY_S - (time.monotonic() - self._graph_at)
            busy = bool(self.controller.pending) or self.controller.rate > BUSY_RATE
            if wait <= 0 or not busy:
                self._update_graph()
            elif not self._graph_timer.isActive():
                self._graph_timer.start(int(wait * 1000) + 1)
        if summary.updated:
            rows = np.asarray(sorted(r for r in summary.updated if r in self.state.store),
                              dtype=np.int64)
            self.timeline_data.set_depth(rows, self.state.store.column("depth", rows))
            if self.details.current in summary.updated:  # e.g. its on_commit fate came
                self.details.show_row(self.details.current)
        if summary.processes_changed:
            self.filters.set_processes([p.label for p in self.state.processes.values()])
        self._update_dimming()
        self.banner.setVisible(not self.state.processes)
        self._control_tick(summary.processes_changed)
        self.status.refresh()
        self.timeline.data_changed()

    def _string(self, sid: int) -> str:
        return self.state.strings.get(sid) or ""

    def _lane_label(self, key: int) -> str:
        return lane_title(self.state, self.lane_column, key)

    def _timeline_append(self, rows: np.ndarray) -> None:
        col = self.state.store.column
        self.timeline_data.append(rows, col("ts", rows), col("dur", rows),
                                  lane_keys(self.state.store, self.lane_column, rows),
                                  col("depth", rows),
                                  col("error", rows), col("signal", rows))

    def _rebuild_timeline(self) -> None:
        self.timeline_data.clear()
        self.timeline_data.lane_mode = self.lane_column
        rows = self.controller.selection.rows
        if len(rows):
            self._timeline_append(rows.copy())
        self.timeline.data_changed()
        self.details.show_row(self.details.current)

    def set_lane_mode(self, text: str) -> None:
        self.lane_column = LANE_COLUMNS.get(text, "signal")
        self._rebuild_timeline()

    def _autoscroll(self, rows: np.ndarray) -> None:
        bar = self.table.verticalScrollBar()
        if self.timeline.follow and bar.value() >= bar.maximum() - 3 * len(rows) - 2:
            self.table.scrollToBottom()

    def apply_filter(self, filter_: Any) -> None:
        self.controller.set_filter(filter_)  # dims the graph if the selection changed
        # A focus filters the list and timeline to its node; the graph keeps showing the
        # whole wiring, the neighbourhood lit and the rest faded.
        focused = self.graph.focus is not None
        self.graph.set_signal_filter(filter_.signals if filter_ and not focused else None)

    def _set_slow_threshold(self, ms: int) -> None:
        # One threshold for every view: graph colours and legend, list, details.
        self.graph.slow_ns = self.table_model.slow_ns = self.details.slow_ns = ms * 1_000_000
        self.graph.rebuild()  # restyle edges and the legend with the new threshold
        self.table.viewport().update()
        self.details.show_row(self.details.current)
        self.graph.viewport().update()

    def _on_current_row(self, current: Any, previous: Any) -> None:
        absolute = self.table_model.absolute_row(current.row()) if current.isValid() else None
        self.details.show_row(absolute)
        self.timeline.selected_row = absolute
        self.timeline.update()
        if absolute is not None:
            self.rowSelected.emit(absolute)

    def _keep_selected_row(self) -> None:
        """After a new filter: select the detailed dispatch again, or forget it if hidden."""
        shown = self.details.current
        if shown is not None and self.table_model.model_row(shown) is not None:
            self.select_row(shown)
        elif shown is not None:
            self.details.show_row(None)
            self.timeline.selected_row = None
            self.timeline.update()

    def select_row(self, absolute: int) -> None:
        """Select an absolute store row in the table (if the filter shows it) and detail it."""
        r = self.table_model.model_row(absolute)
        if r is None:
            self.details.show_row(absolute)
            return
        index = self.table_model.index(r, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def on_color_scheme_changed(self, _scheme: object) -> None:
        app = QApplication.instance()
        if app is not None:
            follow_system_scheme(app)
        self.apply_theme(current_theme())

    def apply_theme(self, theme: Theme) -> None:
        """Switch every custom-painted view to ``theme`` (the system went light/dark)."""
        self.theme = theme
        self.graph.apply_theme(theme)
        self.timeline.set_theme(theme)
        self.details.theme = theme
        self.details.show_row(self.details.current)
        self.table_model.theme = theme
        self.top.model.theme = self.diagnostics.model.theme = theme
        self.table.viewport().update()

    close_guard: Any = None  # qt.close_guard.CloseGuard, set by run_gui: ask to save first

    def closeEvent(self, event: Any) -> None:
        if self.close_guard is not None and not self.close_guard.may_close():
            event.ignore()  # the user cancelled, or the save did not happen
            return
        self.save_settings()
        super().closeEvent(event)

"""The window's actions: the toolbar, its shortcuts and their help (mixed into MainWindow)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QMessageBox, QStyle, QToolBar

from monitor_gui.qt.theme import html_text
from monitor_gui.qt.window_files import LANE_COLUMNS


class WindowActions:
    """Mixed into MainWindow (which provides the widgets and slots used here)."""

    controller: Any
    graph: Any
    graph_panel: Any
    timeline: Any
    lanes: QComboBox
    open_dialog: Any
    save_dialog: Any
    export_dialog: Any
    compare_dialog: Any
    leave_focus: Any
    set_lane_mode: Any

    def _action(self, text: str, shortcut: Any, slot: Any, tip: str,
                checkable: bool = False, icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self, checkable=checkable)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})")
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.pause_action = self._action("Pause", Qt.Key.Key_Space, self.controller.set_paused,
                                         "Stop applying incoming events", checkable=True,
                                         icon=sp.SP_MediaPause)
        self.clear_action = self._action("Clear", "Ctrl+L", self.controller.clear,
                                         "Forget everything received so far",
                                         icon=sp.SP_DialogResetButton)
        self.open_action = self._action("Open…", QKeySequence.StandardKey.Open,
                                        self.open_dialog, "Open a recording",
                                        icon=sp.SP_DialogOpenButton)
        self.save_action = self._action("Save…", QKeySequence.StandardKey.Save,
                                        self.save_dialog, "Save the stored dispatches",
                                        icon=sp.SP_DialogSaveButton)
        self.export_action = self._action("Export graph…", "Ctrl+E", self.export_dialog,
                                          "Export the graph as PNG or SVG",
                                          icon=sp.SP_FileDialogDetailedView)
        self.compare_action = self._action("Compare with…", "Ctrl+D", self.compare_dialog,
                                           "What changed since a recording (calls, p95, "
                                           "edges, errors)")
        self.fit_action = self._action("Fit graph", "F", self._fit_graph,
                                       "Fit the whole graph in view",
                                       icon=sp.SP_TitleBarMaxButton)
        self.follow_action = self._action("Follow live", Qt.Key.Key_End,
                                          self.timeline.set_follow,
                                          "Timeline follows the newest events", checkable=True,
                                          icon=sp.SP_MediaSeekForward)
        self.follow_action.setChecked(True)
        self.zoom_selection_action = self._action(
            "Zoom to selection", "Z", self.timeline.zoom_to_selection,
            "Timeline: show the selected dispatch", icon=sp.SP_FileDialogContentsView)
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find,
                                        self.graph_panel.start_search,
                                        "Find a sender, signal or receiver and focus it")
        self.leave_focus_action = self._action("Leave focus", Qt.Key.Key_Escape,
                                               self.leave_focus,
                                               "Show the whole graph and every dispatch again")
        self.help_action = self._action("Shortcuts", QKeySequence.StandardKey.HelpContents,
                                        self.show_shortcuts, "Keyboard and mouse controls")
        self.lanes = QComboBox()
        self.lanes.addItems(list(LANE_COLUMNS))
        self.lanes.setToolTip("One timeline lane per signal, thread, request or process; "
                              "or a flame chart per request (receivers under dispatches)")
        self.lanes.currentTextChanged.connect(self.set_lane_mode)
        bar = QToolBar("Main")
        bar.setObjectName("toolbar-main")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setIconSize(bar.iconSize() * 0.8)
        for a in (self.pause_action, self.clear_action, None, self.open_action, self.save_action,
                  self.export_action, self.compare_action, None, self.fit_action,
                  self.follow_action, self.zoom_selection_action, self.help_action):
            bar.addSeparator() if a is None else bar.addAction(a)
        bar.addWidget(self.lanes)
        self.addToolBar(bar)

    def shortcuts_text(self) -> str:
        keys = [(a.shortcut().toString(QKeySequence.SequenceFormat.NativeText), a.text())
                for a in self.actions() if not a.shortcut().isEmpty()]
        keys += [("Wheel / drag", "timeline: zoom at the cursor / pan (leaves live mode)"),
                 ("Shift+wheel", "timeline: scroll lanes"),
                 ("+ / - / ← / → / Home", "timeline (focused): zoom, pan, fit all"),
                 ("Wheel / drag / click", "graph: zoom / pan / focus the node, open a group")]
        rows = "".join(f"<tr><td><b>{html_text(k)}</b>&nbsp;&nbsp;</td>"
                       f"<td>{html_text(v.replace('…', ''))}</td></tr>" for k, v in keys)
        return f"<table>{rows}</table>"

    def show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard and mouse", self.shortcuts_text())

    def _fit_graph(self) -> None:
        self.graph.user_zoomed = False
        self.graph.fit_all()

"""The window's file actions (open/save recording, export graph) and remembered state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QFileDialog, QMessageBox

from monitor_gui.qt import recording_io
from monitor_gui.qt.theme import tooltip

LANE_COLUMNS = {"Lanes: signal": "signal", "Lanes: thread": "thread",
                "Lanes: request": "request", "Lanes: process": "proc",
                "Flame: request": "flame"}


class FilesAndSettings:
    """Mixed into MainWindow (which provides the widgets used here)."""

    controller: Any
    state: Any
    settings: Any
    graph: Any
    timeline: Any
    status: Any
    splitter: Any
    graph_panel: Any
    lanes: Any
    recordingSaved: Any

    # ------------------------------------------------------------------ files
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open recording", "",
                                              recording_io.FILE_FILTER)
        if path:
            self.open_recording(path)

    def open_recording(self, path: str) -> None:
        try:
            loaded = recording_io.load(self.controller, path)
        except Exception as exc:  # a bad file is the user's data problem, not a crash
            QMessageBox.warning(self, "Open recording", tooltip(f"Cannot open {path}:\n{exc}"))
        else:
            if loaded.warning:  # a recording cut short: say what it still holds
                self.status.showMessage(loaded.warning, 15_000)
                self.status.setToolTip(loaded.warning)
        self.timeline.fit_all()

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save recording", "signals.jsonl.gz",
                                              recording_io.FILE_FILTER)
        if path:
            self.save_recording(path)

    def save_recording(self, path: str) -> None:
        try:
            n = recording_io.save(self.state, path)
        except Exception as exc:
            QMessageBox.warning(self, "Save recording", tooltip(f"Cannot save {path}:\n{exc}"))
            return
        self.status.showMessage(f"Saved {n:,} dispatches to {path}", 5000)
        self.recordingSaved.emit(path)

    def compare_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Compare with recording (A, before)", "",
                                              recording_io.FILE_FILTER)
        if path:
            self.compare_with(path)

    def compare_with(self, path: str) -> Any:
        """Show what changed from the recording at ``path`` (A) to what the window holds
        (B) in a dialog; returns the dialog (None if the file could not be read)."""
        from monitor_gui.core.diff import diff_states, load_state
        from monitor_gui.qt.diff_view import DiffDialog

        try:
            before = load_state(path)
        except Exception as exc:  # a bad file is the user's data problem, not a crash
            QMessageBox.warning(self, "Compare", tooltip(f"Cannot open {path}:\n{exc}"))
            return None
        report = diff_states(before, self.state, names=(path, "this window"))
        dialog = DiffDialog(report, self)
        dialog.show()
        return dialog

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export graph", "signal-graph.png",
                                              "PNG image (*.png);;SVG drawing (*.svg)")
        if path and not self.graph.export(path):
            QMessageBox.warning(self, "Export graph", tooltip(f"Cannot write {path}"))

    # ------------------------------------------------------------------ settings
    def restore_settings(self) -> None:
        if self.settings is None:
            return
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        splitter = self.settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        top_n = self.settings.value("graph/top_n")
        if top_n is not None and str(top_n).isdigit():
            self.graph_panel.top_n.setValue(int(top_n))
        lanes = self.settings.value("timeline/lanes")
        if isinstance(lanes, str) and lanes in LANE_COLUMNS:
            self.lanes.setCurrentText(lanes)

    def save_settings(self) -> None:
        if self.settings is None:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.settings.setValue("timeline/lanes", self.lanes.currentText())
        self.settings.setValue("graph/top_n", self.graph_panel.top_n.value())
        self.settings.sync()


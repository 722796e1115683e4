"""The Diagnostics tab's table model: one row per wiring finding, with severity swatches."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from monitor_gui.core.diagnostics import KINDS, Finding
from monitor_gui.qt.dispatch_model import ColumnsModel
from monitor_gui.qt.theme import (
    Theme,
    current_theme,
    html_text,
    short_receiver,
    short_signal,
)

Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Kind", "What is wrong (errors first); the swatch is its severity"),
    ("Signal", "The signal"),
    ("Receiver", "The receiver (its full module.qualname in the tooltip); empty for a "
                 "finding about the signal"),
    ("Sender", "The sender it was connected for, or that sent it; empty: any"),
    ("Count", "The calls, dispatches or names the finding counts"),
    ("Connected at", "Where connect() or @receiver connected it (file:line); in italics "
                     "where the probe did not see the connect() and gives the def line"),
    ("Detail", "Why it is a finding"),
)
KIND, SIGNAL, RECEIVER, SENDER, COUNT, WHERE, DETAIL = range(len(COLUMNS))
ORDER = {kind: i for i, kind in enumerate(KINDS)}


def short_path(path: str) -> str:
    """A file as a reader finds it: from the package on ("django/db/models/base.py") for
    installed code, relative to the working directory for the project's own."""
    _head, sep, tail = path.rpartition("site-packages/")
    if sep:
        return tail
    cwd = os.getcwd() + os.sep
    return path[len(cwd):] if path.startswith(cwd) else path


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


class DiagnosticsModel(ColumnsModel):
    """One row per finding."""

    COLUMNS = COLUMNS

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

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.findings):
            return None
        f, col = self.findings[index.row()], index.column()
        if role == SORT_ROLE:
            if col == KIND:
                return ORDER[f.kind]
            return f.count if col == COUNT else self._display(f, col, full=True)
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
    def _display(f: Finding, col: int, full: bool = False) -> str:
        if col == KIND:
            return KINDS[f.kind][1]
        if col == SIGNAL:
            return f.signal if full else short_signal(f.signal)
        if col == RECEIVER:
            return f.receiver if full or not f.receiver else short_receiver(f.receiver)
        if col == SENDER:
            return f.sender
        if col == WHERE:
            return "" if not f.file else f"{f.file if full else short_path(f.file)}:{f.line}"
        if col == COUNT:
            return f"{f.count:,}" if f.count else ""
        return f.detail

    @staticmethod
    def _tooltip(f: Finding) -> str:
        rows = [("kind", f"{KINDS[f.kind][2]} ({f.severity})"), ("signal", f.signal),
                ("receiver", f.receiver), ("sender", f.sender or "any"),
                ("connected at" if f.site_known else "defined at", f.where), ("", f.detail)]
        cells = "".join(f"<tr><td><b>{k}</b>&nbsp;</td><td>{html_text(v)}</td></tr>"
                        for k, v in rows if v)
        return f"<table>{cells}</table>"

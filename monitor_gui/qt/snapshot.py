"""Headless pictures of a recording: the window's graph or timeline as drawn, without a screen."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SIZE = (1600, 1000)  # the window's default size: the picture is what a user sees
SETTLE_S = 10.0  # at most this long for the deferred layout passes


@dataclass
class Snapshot:
    path: str
    dispatches: int
    signals: list[str]  # the signals shown (all when no --signal was given)


def resolve_signals(known: list[str], wanted: list[str]) -> set[str]:
    """Dotted names for ``wanted``, each a dotted name or its last part ("post_save")."""
    found = set()
    for name in wanted:
        matches = [k for k in known if k == name or k.rsplit(".", 1)[-1] == name]
        if not matches:
            shown = ", ".join(sorted(k.rsplit(".", 1)[-1] for k in known)) or "none"
            raise ValueError(f"no signal {name!r} in the recording (it has: {shown})")
        found.update(matches)
    return found


def export_widget(widget: object, path: str) -> bool:
    """Write a widget as drawn: PNG, or SVG by suffix; True on success."""
    from PySide6.QtCore import QRectF
    from PySide6.QtSvg import QSvgGenerator

    if not path.lower().endswith(".svg"):
        return widget.grab().save(path)  # type: ignore[attr-defined]
    size = widget.size()  # type: ignore[attr-defined]
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(size)
    gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
    widget.render(gen)  # type: ignore[attr-defined]
    return True


def render_recording(recording: str | Path, out: str, signals: list[str] | None = None,
                     timeline: bool = False, whole: bool = False,
                     transactions: bool = False) -> Snapshot:
    """Open ``recording`` in an unshown window of the default size and write its graph (or
    timeline, or with ``whole`` the whole window with the latest nested dispatch selected)
    to ``out``, exactly as the window draws it. Raises OSError/ValueError."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler

    from monitor_gui.qt import recording_io
    from monitor_gui.qt.app import build

    previous = qInstallMessageHandler(_quiet_offscreen)

    if not Path(recording).is_file():
        raise OSError(f"{recording}: no such file")
    monitor = build(None, settings=None)  # the defaults, not this user's saved layout
    try:
        monitor.controller.timer.stop()
        window = monitor.window
        window.resize(*DEFAULT_SIZE)
        window.show()  # on the offscreen platform nothing appears; the layout is real
        recording_io.load(monitor.controller, str(recording))
        known = sorted(monitor.state.signals)
        shown = known
        if signals:
            chosen = resolve_signals(known, signals)
            window.filters.model.set_checked(chosen)
            shown = sorted(chosen)
        window.timeline.fit_all()
        settle(monitor)
        for edge in window.graph.edges.values():  # at rest: no "just fired" glow
            edge.heat = 0.0
            edge.refresh()
        if whole and transactions:
            window.filters.transaction.setCurrentIndex(1)  # inside a transaction
            _select_latest_rolled_back(monitor)
            settle(monitor)
            ok = export_widget(window, out)
        elif whole:
            _select_latest_nested(monitor)
            settle(monitor)
            ok = export_widget(window, out)
        else:
            ok = export_widget(window.timeline, out) if timeline else window.graph.export(out)
        if not ok:
            raise OSError(f"cannot write {out}")
        return Snapshot(out, len(monitor.controller.selection), shown)
    finally:
        monitor.dispose()
        qInstallMessageHandler(previous)


def _select_latest_nested(monitor: object) -> None:
    """Detail the newest dispatch that has receivers and a parent (a telling example)."""
    state, window = monitor.state, monitor.window  # type: ignore[attr-defined]
    rows = window.controller.selection.rows
    depth = state.store.column("depth", rows)
    nrecv = state.store.column("nrecv", rows)
    found = rows[(depth > 0) & (nrecv > 0)]
    if len(found):
        window.select_row(int(found[-1]))


def _select_latest_rolled_back(monitor: object) -> None:
    """Detail the newest dispatch a rollback took an on_commit callback from (or, without
    one, the newest that queued any)."""
    from monitor_gui.core.transactions import DISCARDED, HAS_CALLBACKS

    state, window = monitor.state, monitor.window  # type: ignore[attr-defined]
    rows = window.controller.selection.rows
    flags = state.store.column("cb", rows)
    for bit in (DISCARDED, HAS_CALLBACKS):
        found = rows[(flags & bit) != 0]
        if len(found):
            window.select_row(int(found[-1]))
            return


def _quiet_offscreen(mode: object, context: object, message: str) -> None:
    """Qt's offscreen platform warns about window hints it cannot apply: not news here."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def settle(monitor: object) -> None:
    """Let the deferred passes (a resize re-lays the graph out once) run to the end."""
    app, graph = monitor.app, monitor.window.graph  # type: ignore[attr-defined]
    deadline = time.monotonic() + SETTLE_S
    app.processEvents()
    while graph._resize_timer.isActive() and time.monotonic() < deadline:
        app.processEvents()
    app.processEvents()

"""The status bar counters and the "nothing connected yet" banner."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStatusBar, QWidget

from django_probe import wire
from monitor_gui.qt.controller import MonitorController

MAX_LISTED = 5  # lying processes named in the tooltip


class Banner(QFrame):
    """Explains how to connect a Django app; shown until the first process says hello."""

    def __init__(self, endpoint: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectBanner")
        self.setStyleSheet(
            "#connectBanner { background: palette(alternate-base); "
            "border-bottom: 1px solid palette(mid); }")
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.addWidget(self.label)
        self.set_endpoint(endpoint)

    def set_endpoint(self, endpoint: str | None) -> None:
        if endpoint is None:
            self.label.setText("<b>Not listening.</b> Open a recording (Ctrl+O), or start "
                               "<code>signal-monitor --listen ENDPOINT</code>.")
            return
        ep = escape(endpoint)
        install = ("Add <code>\"django_probe\"</code> to <code>INSTALLED_APPS</code> and run "
                   "your project")
        if endpoint == wire.DEFAULT_ENDPOINT:
            how = f"{install}; it connects to <code>{ep}</code> by itself."
        else:
            how = (f"{install} with <code>SIGNAL_PROBE = {{\"ENDPOINT\": \"{ep}\"}}</code> in "
                   f"settings (or <code>SIGNAL_PROBE_ENDPOINT={ep}</code> in its environment).")
        self.label.setText(f"<b>Waiting for a Django process on <code>{ep}</code>.</b> {how}")

    def set_error(self, message: str) -> None:
        """The listener could not start: say why instead of promising to wait."""
        self.label.setText(f"<b style='color:#cf222e'>Not listening.</b> {escape(message)}")
        self.show()


class StatusBar(QStatusBar):
    """Connected processes, events/s, totals, lost and malformed counts, pause state."""

    def __init__(self, controller: MonitorController, endpoint: str | None) -> None:
        super().__init__()
        self.controller = controller
        self.endpoint = endpoint
        self.labels: dict[str, QLabel] = {}
        for key in ("listen", "processes", "rate", "total", "stored", "lost", "malformed",
                    "paused"):
            label = self.labels[key] = QLabel()
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        controller.rateUpdated.connect(lambda _: self.refresh())
        controller.pausedChanged.connect(lambda _: self.refresh())
        self.refresh()

    def set_endpoint(self, endpoint: str | None) -> None:
        self.endpoint = endpoint
        self.refresh()

    def set_error(self, message: str) -> None:
        self.labels["listen"].setText(f"<span style='color:#cf222e'>⚠ {escape(message)}</span>")
        self.endpoint = None

    def refresh(self) -> None:
        state, c = self.controller.state, self.controller
        totals = state.totals
        live = sum(1 for p in state.processes.values() if p.events)
        if self.endpoint:
            self.labels["listen"].setText(f"<span style='color:#1a7f37'>●</span> listening on "
                                          f"{escape(self.endpoint)}")
        elif not self.labels["listen"].text():
            self.labels["listen"].setText("○ not listening")
        self._show_processes(live)
        self.labels["rate"].setText(f"{c.rate:,.0f} events/s")
        self.labels["total"].setText(f"{totals.dispatches:,} dispatches")
        self.labels["stored"].setText(f"{totals.stored:,} stored")
        lost = totals.lost
        self.labels["lost"].setText(
            f"<span style='color:{'#cf222e' if lost else 'palette(text)'}'>lost {lost:,}</span>")
        # Frames this monitor discarded show up in the core's count as sequence gaps.
        lying = state.process_table.lying
        unresolved = (f", {totals.unresolved:,} held here for names never defined "
                      "(unresolved)" if totals.unresolved else "")
        self.labels["lost"].setToolTip(
            f"{totals.lost - totals.dropped - totals.unresolved:,} lost in transit, "
            f"{totals.dropped:,} dropped by the probe{unresolved}; "
            f"{c.discarded:,} frames discarded here while paused or far behind"
            + (f"; not counting {len(lying)} process{'es' * (len(lying) != 1)} whose "
               "heartbeats are impossible" if lying else ""))
        self.labels["malformed"].setText(
            f"<span style='color:{'#cf222e' if totals.malformed else 'palette(text)'}'>"
            f"malformed {totals.malformed:,}</span>")
        pending = len(c.pending)
        self.labels["paused"].setText(f"⏸ paused · {pending:,} frames waiting" if c.paused
                                      else "")

    def _show_processes(self, live: int) -> None:
        """Count the live processes; warn when the process table is full, a process lies
        about its counters or speaks another protocol version (details in the tooltip)."""
        table = self.controller.state.process_table
        lying = table.lying
        warnings = []
        if table.refused_frames:
            warnings.append(
                f"Process table full ({table.max_processes:,} processes): "
                f"{table.refused_processes:,} more not tracked, their "
                f"{table.refused_events:,} events in {table.refused_frames:,} frames refused.")
        for p in lying[:MAX_LISTED]:
            warnings.append(f"{p.label} lies: {p.lying}; its loss is not counted.")
        if len(lying) > MAX_LISTED:
            warnings.append(f"… and {len(lying) - MAX_LISTED:,} more lying processes.")
        if table.version_error is not None:
            warnings.append(f"{table.version_errors:,} frames refused: {table.version_error}.")
        text = f"{live} process{'es' * (live != 1)}"
        flags = [flag for flag, on in (("table full", table.refused_frames),
                                       (f"{len(lying)} lying", lying),
                                       ("protocol mismatch", table.version_errors)) if on]
        if flags:
            text += f" <span style='color:#cf222e'>⚠ {escape(', '.join(flags))}</span>"
        label = self.labels["processes"]
        label.setText(text)
        label.setToolTip("<br>".join(escape(w) for w in warnings))

"""The details pane: everything known about the selected dispatch, as rich text."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np
from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser, QWidget

from monitor_gui.core.query import DEFAULT_SLOW_MS
from monitor_gui.qt.models import clock
from monitor_gui.qt.theme import Theme, current_theme, format_ns, short_receiver, short_signal
from monitor_gui.qt.tx_marks import callbacks_html, tx_row_html

MAX_CHILDREN = 50


class DetailsPane(QTextBrowser):
    """Receivers with durations/outcomes, exception, call site, kwargs, parent/children.

    Parent and child dispatches are links; following one emits ``rowRequested``.
    """

    rowRequested = Signal(int)

    def __init__(self, store: Any, parent: QWidget | None = None,
                 theme: Theme | None = None) -> None:
        super().__init__(parent)
        self.slow_ns = int(DEFAULT_SLOW_MS * 1_000_000)  # the window keeps it in step
        self.store = store
        self.theme = theme or current_theme()
        self.current: int | None = None
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._follow)
        self.show_row(None)

    def _follow(self, url: QUrl) -> None:
        if url.scheme() == "row":
            self.rowRequested.emit(int(url.path() or url.host()))

    def _style(self) -> str:
        t = self.theme
        return (f"<style>body{{color:{t.text.name()};}} h3{{margin:2px 0 6px 0;}}"
                f".muted{{color:{t.muted.name()};}} .err{{color:{t.error.name()};}}"
                f".slow{{color:{t.slow.name()};}} td{{padding:1px 6px 1px 0;}}"
                f"th{{text-align:left;color:{t.muted.name()};font-weight:normal;"
                f"padding-right:8px;}} a{{color:{t.accent.name()};text-decoration:none;}}"
                f"code{{font-family:monospace;}}</style>")

    def show_row(self, row: int | None) -> None:
        """Render absolute store row ``row`` (None or evicted: a hint instead)."""
        self.current = row
        if row is None or row not in self.store:
            hint = ("Select a dispatch in the list or the timeline to see its receivers, "
                    "timings, call site and kwargs." if row is None
                    else "This dispatch was evicted from the store.")
            self.setHtml(f"{self._style()}<p class='muted'>{escape(hint)}</p>")
            return
        self.setHtml(self._style() + self.render_html(self.store.row(row)))

    def render_html(self, d: Any) -> str:
        e = escape
        state = ("<span class='err'>raised</span>" if d.raised
                 else "<span class='err'>receiver error</span>" if d.error else "ok")
        parts = [
            f"<h3>{e(short_signal(d.signal))} <span class='muted'>#{d.id}</span></h3>",
            f"<div class='muted'>{e(d.signal)}</div><table>",
            f"<tr><th>sender</th><td><code>{e(d.sender)}</code></td></tr>",
            f"<tr><th>time</th><td>{clock(d.ts)} · {format_ns(d.dur)} · {e(d.method)} "
            f"· {state}</td></tr>",
            f"<tr><th>process</th><td>{e(d.proc)} · thread {e(d.thread)}</td></tr>",
        ]
        if d.request:
            parts.append(f"<tr><th>request</th><td>{e(d.request.method)} {e(d.request.path)} "
                         f"<span class='muted'>{e(d.request.id)}</span></td></tr>")
            if d.request.traceparent:
                parts.append(f"<tr><th>traceparent</th><td class='muted'>"
                             f"{e(d.request.traceparent)}</td></tr>")
        if d.site:
            parts.append(f"<tr><th>call site</th><td><code>{e(d.site.file)}:{d.site.line}"
                         f"</code> in <code>{e(d.site.func)}</code></td></tr>")
        parts.append(tx_row_html(d))
        parts.append("</table>")
        parts.append(f"<h4>Receivers ({len(d.receivers)})</h4>")
        # One block per receiver, not a table: narrow docks made table cells wrap names.
        for r in d.receivers:
            cls = {"raised": "err", "skipped": "muted"}.get(r.outcome, "")
            dur = format_ns(r.dur) if r.outcome != "skipped" else "—"
            slow = "slow" if r.dur >= self.slow_ns else ""
            value = f" · <span class='muted'>{e(r.value)}</span>" if r.value else ""
            parts.append(
                f"<div style='margin-top:4px'><code title='{e(r.module)}.{e(r.name)}'><b>"
                f"{e(short_receiver(r.module + '.' + r.name))}</b></code>"
                f"{' <i>async</i>' if r.is_async else ''} &nbsp;<span class='{slow}'>{dur}</span>"
                f" · <span class='{cls}'>{e(r.outcome)}</span>{value}</div>")
            if r.outcome == "raised":
                parts.append(f"<div class='err'>&nbsp;&nbsp;{e(r.exc_type or '')}: "
                             f"{e(r.exc_msg or '')}</div>")
            parts.append(f"<div class='muted'>&nbsp;&nbsp;{e(r.file)}:{r.line}</div>")
        parts.append(callbacks_html(d))  # on_commit(): children of the dispatch that queued them
        if d.kwargs:
            parts.append("<h4>kwargs</h4><table>")
            for k, v in d.kwargs.items():
                parts.append(f"<tr><th><code>{e(k)}</code></th><td><code>{e(v)}</code></td></tr>")
            parts.append("</table>")
        parts.append("<h4>Nesting</h4>")
        if d.parent_row is not None:
            parts.append(f"<div>parent: {self._link(d.parent_row)}</div>")
        elif d.parent is not None:
            parts.append(f"<div class='muted'>inside dispatch #{d.parent}, which is not here: "
                         "muted or sampled out by live control, dropped, evicted, or not "
                         "recorded</div>")
        else:
            parts.append("<div class='muted'>top-level dispatch</div>")
        if d.children:
            links = ", ".join(self._link(c) for c in d.children[:MAX_CHILDREN])
            more = len(d.children) - MAX_CHILDREN
            parts.append(f"<div>children: {links}{f' … {more} more' if more > 0 else ''}</div>")
        return "".join(parts)

    def _link(self, row: int) -> str:
        if row not in self.store:
            return f"<span class='muted'>row {row} (evicted)</span>"
        ts = int(self.store.column("ts", _rows(row))[0])
        sig = self.store.strings.get(int(self.store.column("signal", _rows(row))[0])) or ""
        return f"<a href='row:{row}'>{escape(short_signal(sig))} @ {clock(ts)}</a>"


def _rows(row: int) -> np.ndarray:
    return np.asarray([row], dtype=np.int64)

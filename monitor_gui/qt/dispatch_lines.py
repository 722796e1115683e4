"""One line of the dispatch list: what it shows, read from the store, and each column's text."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from monitor_gui.qt.theme import format_ns, short_signal
from monitor_gui.qt.tx_marks import tx_mark

SIGNAL_COLUMN, SENDER_COLUMN = 1, 2


def clock(ns: int) -> str:
    secs = ns / 1e9
    return time.strftime("%H:%M:%S", time.localtime(secs)) + f".{int(secs % 1 * 1000):03d}"


def indent(depth: int) -> str:
    """The Signal column's prefix for a dispatch nested ``depth`` levels deep."""
    return "" if depth <= 0 else "   " * (min(depth, 8) - 1) + "└ "


@dataclass(slots=True)
class TableRow:
    """What one table line shows, read from the store's columns (no receiver/children scans)."""

    ts: int
    depth: int
    signal: str
    sender: str
    nrecv: int
    dur: int
    raised: bool
    error: bool
    request: str
    request_id: str
    proc: str
    tx_depth: int = 0  # atomic() blocks it ran in (0: autocommit)
    cb: int = 0  # what its on_commit callbacks became (core.transactions bits)


def table_row(store: Any, absolute: int) -> TableRow:
    ring, get = store.dispatches, store.strings.get
    info = store.requests.get(int(ring.get("request", absolute)))
    request = f"{info.method} {info.path}" if info else ""
    return TableRow(
        ts=int(ring.get("ts", absolute)), depth=int(ring.get("depth", absolute)),
        signal=get(int(ring.get("signal", absolute))) or "",
        sender=get(int(ring.get("sender", absolute))) or "",
        nrecv=int(ring.get("nrecv", absolute)), dur=int(ring.get("dur", absolute)),
        raised=bool(ring.get("raised", absolute)), error=bool(ring.get("error", absolute)),
        request=request, request_id=info.id if info else "",
        proc=store.processes.by_index[int(ring.get("proc", absolute))].label,
        tx_depth=int(ring.get("tx_depth", absolute)), cb=int(ring.get("cb", absolute)),
    )


def display(d: TableRow, col: int) -> str:
    """The text of column ``col`` for line ``d`` (also what column sizing measures)."""
    if col == 0:
        return clock(d.ts)
    if col == SIGNAL_COLUMN:
        return indent(d.depth) + short_signal(d.signal)
    if col == SENDER_COLUMN:
        return d.sender
    if col == 3:
        return str(d.nrecv)
    if col == 4:
        return format_ns(d.dur)
    if col == 5:
        return ("raised" if d.raised else ("receiver error" if d.error else "ok")) + tx_mark(
            d.tx_depth, d.cb)
    if col == 6:
        return d.request
    return d.proc

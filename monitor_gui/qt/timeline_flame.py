"""Bars the timeline draws when zoomed in: dispatches and, in a flame chart, their receivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF

from django_probe import wire
from monitor_gui.qt.timeline_data import TimelineData

_RAISED = wire.OUTCOMES.index(wire.RAISED)  # the store's "outcome" code of a raise


@dataclass
class ReceiverSpans:
    """Receiver calls of some dispatches, flattened in call order."""

    owner: np.ndarray  # index into the dispatch rows asked for
    start: np.ndarray  # ns after the dispatch's start (inferred, see receiver_spans)
    dur: np.ndarray  # as measured
    length: np.ndarray  # as drawn: never past the dispatch's end
    name: list[str]
    raised: np.ndarray


ReceiversOf = Callable[[np.ndarray], ReceiverSpans]


def receiver_spans(store: Any, rows: np.ndarray) -> ReceiverSpans:
    """The receivers each absolute dispatch row in ``rows`` ran, placed within it.

    The wire carries a receiver's duration, not its start. Receivers run one after the
    other in call order, so each starts after the previous one; the dispatch's own time
    not spent in receivers (lookup, the probe's bookkeeping) is spread evenly between them.
    Receivers that add up to more than their dispatch (clock granularity, hand-made
    events) are scaled down to fit inside it.
    """
    rows = np.asarray(rows, np.int64)
    nrecv = store.column("nrecv", rows).astype(np.int64)
    total = int(nrecv.sum())
    owner = np.repeat(np.arange(len(rows)), nrecv)
    group0 = np.cumsum(nrecv) - nrecv  # flat index of each dispatch's first receiver
    rrows = np.repeat(store.column("rstart", rows), nrecv) + (
        np.arange(total) - np.repeat(group0, nrecv))
    ring = store.receivers
    dur = ring.take("dur", rrows).astype(np.float64)
    before = np.cumsum(dur) - dur
    before -= np.repeat(np.append(before, 0.0)[group0], nrecv)  # restart at each dispatch
    outer = store.column("dur", rows).astype(np.float64)
    inner = np.bincount(owner, dur, minlength=len(rows))
    spare = np.maximum(outer - inner, 0.0)
    fit = np.minimum(1.0, outer / np.maximum(inner, 1.0))[owner]
    position = np.arange(total) - np.repeat(group0, nrecv)  # 0 for the first receiver
    start = before * fit + (position + 1) * (spare / (nrecv + 1))[owner]
    raised = ring.take("outcome", rrows) == _RAISED
    names = [store.strings.get(int(i)) or "?" for i in ring.take("name", rrows)]
    return ReceiverSpans(owner, start, dur, dur * fit, names, raised)


@dataclass(frozen=True)
class Bar:
    """One drawn bar: widget geometry and what it stands for."""

    x: float
    y: float
    w: float
    h: float
    row: int  # display row
    kind: str  # "dispatch" or "receiver"
    store_row: int  # the dispatch's absolute row (a receiver's: its dispatch's)
    name: str  # signal name, or receiver name
    dur: float
    raised: bool

    @property
    def rect(self) -> QRectF:
        return QRectF(self.x, self.y, self.w, self.h)

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.w and self.y <= y <= self.y + self.h


def layout_bars(data: TimelineData, items: np.ndarray, geometry: tuple[float, float, float],
                rows: tuple[int, int], row_h: int, top: float,
                receivers: ReceiversOf | None) -> list[Bar]:
    """Bars for the marks at buffer indices ``items``.

    ``geometry`` is (left edge x, t0, pixels per ns); ``rows`` the visible display rows
    [row0, row1) drawn from y = ``top``. In a flame chart, each dispatch's receivers are
    bars on the row below it, inside its time span.
    """
    left, t0, k = geometry
    row0, row1 = rows
    x1 = left + (data.ts[items] - t0) * k
    x2 = left + (data.end[items] - t0) * k
    drow = data.drow[items]
    names = {sid: data.name_of(sid) for sid in np.unique(data.signal[items]).tolist()}
    bars: list[Bar] = []
    for i, idx in enumerate(items.tolist()):
        bars.append(Bar(float(x1[i]), top + (int(drow[i]) - row0) * row_h + 2,
                        max(2.0, float(x2[i] - x1[i])), row_h - 3, int(drow[i]), "dispatch",
                        int(data.rows[idx]), names[int(data.signal[idx])],
                        float(data.end[idx] - data.ts[idx]), bool(data.raised[idx])))
    if not (data.flame and receivers is not None and len(items)):
        return bars
    on_screen = (drow + 1 >= row0) & (drow + 1 < row1)
    owners = items[on_screen]
    spans = receivers(data.rows[owners])
    for j in range(len(spans.owner)):
        o = int(spans.owner[j])
        idx = int(owners[o])
        w = max(1.0, float(spans.length[j] * k))  # a skipped receiver is still seen
        x = left + (data.ts[idx] + spans.start[j] - t0) * k
        x = max(left + (data.ts[idx] - t0) * k, min(x, left + (data.end[idx] - t0) * k - w))
        row = int(data.drow[idx]) + 1
        bars.append(Bar(float(x), top + (row - row0) * row_h + 3, w, row_h - 5, row, "receiver",
                        int(data.rows[idx]), spans.name[j], float(spans.dur[j]),
                        bool(spans.raised[j])))
    return bars

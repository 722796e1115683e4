"""Applies incoming frames to the core state on a GUI-thread timer and tells the views."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from monitor_gui.qt.selection import RowSelection

APPLY_INTERVAL_MS = 40  # when caught up: apply what arrived every 40 ms
APPLY_BUDGET_S = 0.010  # one slice of applying; then the event loop paints and handles input
CHUNK_BYTES = 32 * 1024  # frames per apply() call: big enough to amortise, small to stay on time
VIEW_INTERVAL_S = 0.100  # while catching up, views (rows, graph, status) refresh this often
MAX_PENDING_BYTES = 64 * 1024 * 1024  # while paused or behind, older frames beyond this are
# dropped here; the core then sees their sequence gap and counts them as lost


@dataclass
class TickSummary:
    """Everything that changed during one timer tick (possibly several apply() calls)."""

    appended: int = 0
    evicted: int = 0
    fired: set[tuple[str, str, str]] = field(default_factory=set)
    edges_changed: set[tuple[str, str, str]] = field(default_factory=set)
    signals_changed: set[str] = field(default_factory=set)
    processes_changed: bool = False
    topology_changed: bool = False
    updated: set[int] = field(default_factory=set)  # older rows whose depth/parent changed

    def merge(self, changes: Any) -> None:
        self.appended += changes.appended
        self.evicted += changes.evicted
        self.fired.update(tuple(e) for e in changes.fired)
        self.edges_changed.update(changes.edges_changed)
        self.signals_changed.update(changes.signals_changed)
        self.processes_changed |= bool(changes.processes_changed)
        self.topology_changed |= bool(changes.topology_changed)
        self.updated.update(changes.updated)

    def __bool__(self) -> bool:
        return bool(self.appended or self.evicted or self.edges_changed or self.signals_changed
                    or self.processes_changed or self.topology_changed or self.updated)


class MonitorController(QObject):
    """The only mutator of MonitorState (GUI thread); owns the filtered row selection.

    Row notifications come in begin/end pairs so Qt models can bracket them with
    beginRemoveRows/endRemoveRows and beginInsertRows/endInsertRows.
    """

    rowsAboutToBeEvicted = Signal(int)
    rowsEvicted = Signal(int)
    rowsAboutToBeAppended = Signal(int)
    rowsAppended = Signal(object)  # np.ndarray of the new absolute rows
    selectionAboutToReset = Signal()
    selectionReset = Signal()
    ticked = Signal(object)  # TickSummary
    pausedChanged = Signal(bool)
    filterChanged = Signal(object)
    rateUpdated = Signal(float)  # events per second over the last second

    def __init__(self, state: Any, interval_ms: int = APPLY_INTERVAL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.selection = RowSelection(state)
        self.pending: deque[Any] = deque()
        self.pending_bytes = 0
        self.paused = False
        self.discarded = 0  # frames dropped because the pending buffer was full
        self.filter: Any = None
        self.rate = 0.0
        self._rate_mark = (time.monotonic(), 0)
        self._last_flush = 0.0
        self._summary = TickSummary()
        self._flush_next = False  # the next tick only tells the views (see tick)
        self._announced_end = state.store.end  # rows below this were announced to the views
        self.interval_ms = interval_ms
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.tick)
        self.rate_timer = QTimer(self, interval=1000)
        self.rate_timer.timeout.connect(self._update_rate)

    def start(self) -> None:
        self.timer.start()
        self.rate_timer.start()

    # ------------------------------------------------------------------ input
    @Slot(object)
    def enqueue(self, frames: list[Any]) -> None:
        """Frames from the worker thread (queued connection, so this runs on the GUI thread)."""
        self.pending.extend(frames)
        self.pending_bytes += sum(len(f) for f in frames)
        while self.pending_bytes > MAX_PENDING_BYTES and len(self.pending) > 1:
            self.pending_bytes -= len(self.pending.popleft())
            self.discarded += 1

    @Slot()
    def tick(self) -> None:
        """Apply pending frames for at most APPLY_BUDGET_S, then give the event loop back.

        While a backlog remains the timer re-fires as soon as the loop is idle (interval
        0), so throughput is what the core can do, yet no slice blocks painting or input
        for longer than the budget. Telling the views (a flush, then their repaint) gets
        a loop iteration of its own: a stall is then the longer of the two, not the sum.
        """
        if self._flush_next or self.paused or not self.pending:
            wait_s = VIEW_INTERVAL_S - (time.perf_counter() - self._last_flush)
            if self._flush_next or self.paused or wait_s <= 0:
                self._flush_next = False
                self._flush()
                self.timer.setInterval(0 if self.pending and not self.paused
                                       else self.interval_ms)
            else:
                # Caught up, but the views were told less than VIEW_INTERVAL_S ago: tell
                # them when it is over (or apply first if more frames come by then). Under
                # a steady stream the views then refresh 10 times a second, not after every
                # apply, which kept the event loop busier the faster the core applied.
                self.timer.setInterval(max(1, round(wait_s * 1000)))
            return
        deadline = time.perf_counter() + APPLY_BUDGET_S
        while True:  # at least one chunk per slice, however late we are
            frames, size = [], 0
            while self.pending and size < CHUNK_BYTES:
                frame = self.pending.popleft()
                frames.append(frame)
                size += len(frame)
            self.pending_bytes -= size
            self.apply_now(frames, notify=False)
            if not self.pending or time.perf_counter() >= deadline:
                break
        self._flush_next = time.perf_counter() - self._last_flush >= VIEW_INTERVAL_S
        self.timer.setInterval(0)  # come back at once: to flush, or to apply more

    def drain(self) -> None:
        """Apply everything pending (unless paused) and tell the views, synchronously."""
        while self.pending and not self.paused:
            frames = [self.pending.popleft() for _ in range(min(len(self.pending), 64))]
            self.pending_bytes -= sum(len(f) for f in frames)
            self.apply_now(frames, notify=False)
        self._flush_next = False
        self._flush()

    def apply_now(self, frames: list[Any], notify: bool = True) -> None:
        """Apply frames to the state now; with ``notify`` also tell the views (a flush).

        Views learn about new rows only in ``_flush``: announcing rows once per view
        interval instead of once per apply keeps table/timeline repaints (and the core
        ``select`` of a filtered view) off the per-frame path.
        """
        changes = self.state.apply(list(frames))
        self._summary.merge(changes)
        if notify:
            self._flush()

    def _flush(self) -> None:
        """Announce evicted/new rows (begin/end pairs) and what else changed since last time."""
        sel, store = self.selection, self.state.store
        evicted = sel.evictable()
        if evicted:
            self.rowsAboutToBeEvicted.emit(evicted)
            sel.drop_front(evicted)
            self.rowsEvicted.emit(evicted)
        new = sel.new_rows(self._announced_end)
        self._announced_end = store.end
        if len(new):
            self.rowsAboutToBeAppended.emit(len(new))
            sel.append(new)
            self.rowsAppended.emit(new)
        summary, self._summary = self._summary, TickSummary()
        if summary.updated and getattr(self.filter, "tx", None) == "discarded":
            # A rollback is learnt after its dispatch was stored: select the rows again.
            self.selectionAboutToReset.emit()
            self.selection.reset(self.filter)
            self.selectionReset.emit()
        self._last_flush = time.perf_counter()
        if summary:
            self.ticked.emit(summary)

    # ------------------------------------------------------------------ controls
    def set_paused(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self.pausedChanged.emit(paused)

    def clear(self) -> None:
        self.pending.clear()
        self.pending_bytes = 0
        self.discarded = 0
        self.selectionAboutToReset.emit()
        self.state.clear()
        self._summary = TickSummary()
        self.selection.reset(self.filter)
        self._announced_end = self.state.store.end
        self.selectionReset.emit()
        self._rate_mark = (time.monotonic(), self.state.totals.events)
        self.ticked.emit(TickSummary(processes_changed=True, topology_changed=True))

    def set_filter(self, filter_: Any) -> None:
        """Apply a core Filter (None or an empty one: show everything) to table and timeline."""
        if filter_ is not None and getattr(filter_, "is_empty", False):
            filter_ = None
        if filter_ == self.filter:
            return
        self.filter = filter_
        self.selectionAboutToReset.emit()
        self.selection.reset(filter_)
        self._announced_end = self.state.store.end
        self.selectionReset.emit()
        self.filterChanged.emit(filter_)

    def restart_rate(self) -> None:
        """Count the rate from now: events applied from a recording did not arrive live."""
        self._rate_mark = (time.monotonic(), self.state.totals.events)
        self.rate = 0.0
        self.rateUpdated.emit(self.rate)

    def _update_rate(self) -> None:
        now, events = time.monotonic(), self.state.totals.events
        t, n = self._rate_mark
        self.rate = max(0.0, (events - n) / max(now - t, 1e-6))
        self._rate_mark = (now, events)
        self.rateUpdated.emit(self.rate)

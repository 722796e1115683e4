"""The bounded columnar store of dispatches and their receiver calls (numpy, interned strings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from django_probe import wire
from monitor_gui.core.evictable import EvictableStrings
from monitor_gui.core.processes import ProcessKey, ProcessTable
from monitor_gui.core.requests import RequestTable
from monitor_gui.core.ring import Ring
from monitor_gui.core.rollbacks import ROLLED_BACK, UNDONE, RolledBack
from monitor_gui.core.strings import NO_STRING, StringTable
from monitor_gui.core.transactions import CommitCallbacks, tx_of

NO_ID = int(np.iinfo(np.int64).min)  # "no parent" in the int64 dispatch-id columns
NO_ROW = -1
# Forget evicted requests and thread names once this share of the capacity was evicted
# since the last sweep: the sweep scans the live columns, so it must not run per batch.
SWEEP_FRACTION = 4
OUTCOME_CODES = {name: i for i, name in enumerate(wire.OUTCOMES)}
METHOD_CODES = {name: i for i, name in enumerate(wire.METHODS)}
NO_KWARGS_BLOCK = -1  # "kwoff" of a row whose "kwargs" slot holds its own dict (or None)

DISPATCH_COLUMNS: dict[str, Any] = {
    "ts": np.int64, "dur": np.int64, "did": np.int64, "pdid": np.int64, "parent": np.int64,
    "signal": np.int32, "sender": np.int32, "proc": np.int32, "method": np.int8,
    "raised": np.bool_, "error": np.bool_, "depth": np.int16, "nrecv": np.int32,
    "rstart": np.int64, "thread": np.int32, "tid": np.int64, "request": np.int32,
    "site_file": np.int32, "site_line": np.int32, "site_func": np.int32,
    # The kwargs summaries of a sub-batch are msgpack-encoded row by row (in C) and joined
    # into one block shared by its rows; a row's map is block[kwoff:kwoff + kwlen]. About
    # 0.1 µs and ~55 bytes per row, where a joined string per row cost ~0.4 µs and ~100.
    "kwargs": object,  # the block (bytes), or with kwoff NO_KWARGS_BLOCK a dict / None
    "kwoff": np.int32, "kwlen": np.int32,
    # The transaction it ran in (depth 0: none) and what its on_commit callbacks became
    # (transactions.HAS_CALLBACKS | DISCARDED | FAILED bits), or whether a rollback undid it
    # (rollbacks.ROLLED_BACK, ROLLED_BACK_BY_TEST).
    "tx_alias": np.int32, "tx_depth": np.int16, "cb": np.int8,
}
RECEIVER_COLUMNS: dict[str, Any] = {
    "dispatch": np.int64, "label": np.int32, "name": np.int32, "module": np.int32,
    "file": np.int32, "line": np.int32, "is_async": np.bool_, "dur": np.int64,
    "outcome": np.int8, "exc_type": np.int32,
    "text": object,  # the return-value summary, or the exception message when raised
}

_KW_ENCODE = msgspec.msgpack.Encoder().encode
_KW_DECODE = msgspec.msgpack.Decoder(dict[str, str]).decode
_KW_DECODE_ROWS = msgspec.msgpack.Decoder(list[dict[str, str]]).decode


def pack_kwargs(kwargs: Sequence[dict[str, str]]) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The stored form of a column of kwargs summaries: "kwargs", "kwoff", "kwlen"."""
    n = len(kwargs)
    try:
        parts = list(map(_KW_ENCODE, kwargs))
    except (TypeError, ValueError):  # e.g. a lone surrogate read from a recording
        none = np.full(n, NO_KWARGS_BLOCK, np.int32)
        return [dict(k) if k else None for k in kwargs], none, none
    lens = np.fromiter(map(len, parts), np.int32, n)
    return [b"".join(parts)] * n, np.cumsum(lens, dtype=np.int32) - lens, lens


def unpack_kwargs(slot: Any, kwoff: int, kwlen: int) -> dict[str, str]:
    """A row's kwargs (a fresh dict) from its "kwargs", "kwoff" and "kwlen" values."""
    if kwoff == NO_KWARGS_BLOCK:
        return dict(slot) if slot else {}
    return _KW_DECODE(memoryview(slot)[kwoff:kwoff + kwlen])


def unpack_kwargs_rows(block: bytes, start: int, end: int, count: int) -> list[dict[str, str]]:
    """The kwargs of ``count`` adjacent rows whose maps fill ``block[start:end]`` (one call)."""
    return _KW_DECODE_ROWS(b"\xdd" + count.to_bytes(4, "big") + block[start:end])


@dataclass(slots=True)
class DispatchRow:
    """One stored dispatch: every field of ``wire.Dispatch`` plus where it sits in the store."""

    kind: str
    ts: int
    id: int
    parent: int | None  # dispatch id of the parent (wire meaning)
    signal: str
    sender: str
    method: str
    dur: int
    thread: str
    tid: int
    site: wire.CallSite | None
    request: wire.RequestInfo | None
    kwargs: dict[str, str]
    receivers: list[wire.ReceiverCall]
    raised: bool
    row: int  # absolute row
    proc: str  # process label
    proc_key: ProcessKey
    depth: int  # 0 for a top-level dispatch
    parent_row: int | None  # absolute row of the parent dispatch, if stored
    children: list[int]  # absolute rows of dispatches sent by this one's receivers
    error: bool  # raised, or any receiver raised
    tx: wire.TxContext | None = None  # the transaction it ran in
    callbacks: list[wire.OnCommit] = field(default_factory=list)  # on_commit() it queued
    rolled_back: bool = False  # its transaction, or a savepoint around it, was rolled back
    by_test: bool = False  # only by Django's test framework (a TestCase's test ended)

    def to_dispatch(self) -> wire.Dispatch:
        return wire.Dispatch(
            self.kind, self.ts, self.id, self.parent, self.signal, self.sender, self.method,
            self.dur, self.thread, self.tid, self.site, self.request, self.kwargs,
            self.receivers, self.raised, self.tx,
        )


class DispatchStore:
    """Dispatch rows ``[first, end)`` and their receiver rows, each in a numpy ring.

    A receiver row knows its dispatch row; a dispatch row knows ``rstart``/``nrecv``.
    When the receiver ring wraps first, the dispatches whose receivers were overwritten
    are evicted too, so a live dispatch always has all its receivers.

    ``requests`` and ``threads`` (the ``request`` and ``thread`` columns' evictable
    tables) remember only what live rows use (plus, between sweeps, what up to
    ``capacity / SWEEP_FRACTION`` evicted rows used), so memory stays bounded.
    """

    def __init__(self, capacity: int, strings: StringTable, processes: ProcessTable,
                 receiver_capacity: int | None = None) -> None:
        self.strings = strings
        self.processes = processes
        self.dispatches = Ring(capacity, DISPATCH_COLUMNS)
        self.receivers = Ring(receiver_capacity or 3 * capacity, RECEIVER_COLUMNS)
        self.requests = RequestTable(strings)  # the ``request`` column's ids
        # Thread names are unbounded too: runserver names a new thread per request.
        self.threads = EvictableStrings()  # the ``thread`` column's ids
        self.callbacks = CommitCallbacks()  # on_commit() callbacks by dispatch row
        self.rollbacks = RolledBack()  # marks the rows a rollback undid
        self._evicted_since_sweep = 0

    @property
    def capacity(self) -> int:
        return self.dispatches.capacity

    @property
    def first(self) -> int:
        return self.dispatches.first

    @property
    def end(self) -> int:
        return self.dispatches.end

    def __len__(self) -> int:
        return len(self.dispatches)

    def append(self, rows: dict[str, list[Any]], count: int,
               receivers: dict[str, list[Any]], rcount: int) -> int:
        """Append a batch (one list per column); return how many dispatch rows were evicted."""
        before = self.dispatches.first
        self.receivers.append(receivers, rcount)
        self.dispatches.append(rows, count)
        self._evict_orphans()
        evicted = self.dispatches.first - before
        if evicted:
            self._evicted_since_sweep += evicted
            if self._evicted_since_sweep * SWEEP_FRACTION >= self.capacity:
                self.sweep()
        return evicted

    def sweep(self) -> int:
        """Forget the requests and thread names no live row uses; return how many."""
        self._evicted_since_sweep = 0
        return (self.requests.retain(self.column("request"))
                + self.threads.retain(self.column("thread")))

    def sweep_requests(self) -> int:
        """Forget the requests no live row belongs to; return how many were dropped."""
        return self.requests.retain(self.column("request"))

    def sweep_threads(self) -> int:
        """Forget the thread names no live row uses; return how many were dropped."""
        return self.threads.retain(self.column("thread"))

    def _evict_orphans(self) -> None:
        ring, rfirst = self.dispatches, self.receivers.first
        if not len(ring) or ring.get("rstart", ring.first) >= rfirst:
            return
        # rstart grows with the row number, so binary-search the first intact dispatch.
        lo, hi = ring.first, ring.end
        while lo < hi:
            mid = (lo + hi) // 2
            if ring.get("rstart", mid) < rfirst:
                lo = mid + 1
            else:
                hi = mid
        ring.evict_to(lo)

    def column(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Column ``name`` at absolute ``rows`` (all live rows, in order, when None)."""
        ring = self.dispatches
        if rows is not None:
            return ring.take(name, rows)
        parts = [ring.columns[name][lo:hi] for lo, hi, _ in ring.segments()]
        if len(parts) == 1:
            return parts[0]  # a view: no copy when the ring has not wrapped
        return np.concatenate(parts) if parts else ring.columns[name][:0]

    def __contains__(self, row: int) -> bool:
        return self.first <= row < self.end

    def children(self, row: int) -> np.ndarray:
        """Absolute rows whose parent is ``row``, ascending (a vectorised scan, ~1 ms per 1M)."""
        ring = self.dispatches
        parent = ring.columns["parent"]
        found = [np.flatnonzero(parent[lo:hi] == row) + base
                 for lo, hi, base in ring.segments()]
        return np.concatenate(found) if found else np.empty(0, np.int64)

    def receiver_rows(self, row: int) -> range:
        ring = self.dispatches
        start = int(ring.get("rstart", row))
        return range(start, start + int(ring.get("nrecv", row)))

    def receiver_calls(self, row: int) -> list[wire.ReceiverCall]:
        get, r = self.strings.get, self.receivers
        calls = []
        for i in self.receiver_rows(row):
            outcome = wire.OUTCOMES[int(r.get("outcome", i))]
            text = r.get("text", i)
            raised = outcome == wire.RAISED
            calls.append(wire.ReceiverCall(
                get(int(r.get("name", i))) or "", get(int(r.get("module", i))) or "",
                get(int(r.get("file", i))) or "", int(r.get("line", i)),
                bool(r.get("is_async", i)), int(r.get("dur", i)), outcome,
                None if raised else text, get(int(r.get("exc_type", i))),
                text if raised else None,
            ))
        return calls

    def row(self, row: int) -> DispatchRow:
        """Everything stored about absolute row ``row``; IndexError if evicted or not yet stored."""
        if row not in self:
            raise IndexError(f"row {row} is not in the store [{self.first}, {self.end})")
        c = {name: col[row % self.capacity] for name, col in self.dispatches.columns.items()}
        get = self.strings.get
        site = None
        if c["site_file"] != NO_STRING:
            site = wire.CallSite(get(int(c["site_file"])) or "", int(c["site_line"]),
                                 get(int(c["site_func"])) or "")
        request = self.requests.get(int(c["request"]))
        info = self.processes.by_index[int(c["proc"])]
        parent_row = int(c["parent"])
        return DispatchRow(
            kind=wire.KIND_DISPATCH, ts=int(c["ts"]), id=int(c["did"]),
            parent=None if c["pdid"] == NO_ID else int(c["pdid"]),
            signal=get(int(c["signal"])) or "", sender=get(int(c["sender"])) or "",
            method=wire.METHODS[int(c["method"])], dur=int(c["dur"]),
            thread=self.threads.get(int(c["thread"])) or "", tid=int(c["tid"]), site=site,
            request=request,
            kwargs=unpack_kwargs(c["kwargs"], int(c["kwoff"]), int(c["kwlen"])),
            receivers=self.receiver_calls(row), raised=bool(c["raised"]), row=row,
            proc=info.label, proc_key=info.key, depth=int(c["depth"]),
            parent_row=parent_row if parent_row in self else None,
            children=[int(x) for x in self.children(row)], error=bool(c["error"]),
            tx=tx_of(get(int(c["tx_alias"])), int(c["tx_depth"])),
            callbacks=self.callbacks.of(row),
            rolled_back=bool(c["cb"] & UNDONE),
            by_test=bool(c["cb"] & UNDONE) and not c["cb"] & ROLLED_BACK,
        )

    def clear(self) -> None:
        self.dispatches.clear()
        self.receivers.clear()
        self.requests.clear()
        self.threads.clear()
        self.callbacks.clear()
        self.rollbacks.clear()
        self._evicted_since_sweep = 0

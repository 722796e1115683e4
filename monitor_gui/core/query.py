"""Filters over the dispatch store, answered with numpy masks over the live rows."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Literal

import numpy as np

from monitor_gui.core.processes import ProcessKey, ProcessTable
from monitor_gui.core.rollbacks import UNDONE
from monitor_gui.core.store import (
    NO_KWARGS_BLOCK,
    DispatchStore,
    unpack_kwargs,
    unpack_kwargs_rows,
)
from monitor_gui.core.strings import StringTable
from monitor_gui.core.transactions import DISCARDED

EMPTY = np.empty(0, dtype=np.int64)
# The one default of "slow", used by the filter, the graph's colours and its legend: low
# enough that a receiver doing real I/O (the demo's deliberately slow one takes 30-80 ms)
# stands out, high enough that ORM-only receivers (a few ms at most) do not.
DEFAULT_SLOW_MS = 25.0


@dataclass(frozen=True, slots=True)
class Filter:
    """What to show; every criterion given must match (None / "" means "any")."""

    signals: frozenset[str] | None = None  # dotted signal names
    senders: frozenset[str] | None = None
    receivers: frozenset[str] | None = None  # receiver labels, "module.qualname"
    processes: frozenset[ProcessKey | str] | None = None  # keys (host, pid, boot) or labels
    request: str | None = None  # request id
    outcome: Literal["raised", "slow"] | None = None  # raised: dispatch or a receiver raised
    slow_ms: float = DEFAULT_SLOW_MS  # threshold for outcome="slow" (total dispatch duration)
    text: str = ""  # case-insensitive substring of signal/sender/receiver names or kwargs
    t0: int | None = None  # Unix ns, inclusive
    t1: int | None = None  # Unix ns, exclusive
    # inside: ran inside a transaction; discarded: a rollback discarded an on_commit()
    # callback its receivers queued
    tx: Literal["inside", "discarded"] | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing is filtered (slow_ms alone filters nothing)."""
        return self == Filter(slow_ms=self.slow_ms)


def _ids(strings: StringTable, names: Iterable[str]) -> np.ndarray:
    found = [strings.lookup(n) for n in names]
    return np.asarray([i for i in found if i is not None], dtype=np.int64)


def _receiver_hits(store: DispatchStore, label_ids: np.ndarray) -> np.ndarray:
    """Absolute dispatch rows that called any receiver in ``label_ids``."""
    ring = store.receivers
    hits = [ring.columns["dispatch"][lo:hi][np.isin(ring.columns["label"][lo:hi], label_ids)]
            for lo, hi, _ in ring.segments()]
    rows = np.unique(np.concatenate(hits)) if hits else EMPTY
    return rows[rows >= store.first]


# The only non-ASCII characters whose lower() contains an ASCII letter, in UTF-8 by that
# letter (U+0130 -> "i̇", U+212A KELVIN SIGN -> "k"): as far as other ASCII letters are
# concerned, a block lowers exactly like its text (tests/monitor_gui/core/test_query.py).
CASE_TO_ASCII = {b"i": b"\xc4\xb0", b"k": b"\xe2\x84\xaa"}
_SEPARATORS = re.compile("[ =]")


def _kwargs_text(kwargs: dict[str, str]) -> str:
    """What ``text`` searches in a row's kwargs: "key=value key=value" (not yet lowered)."""
    return " ".join(map("=".join, kwargs.items()))


def _piece(needle: str, sample: Any) -> bytes | None:
    """The piece of ``needle`` the kwargs prefilter looks for (see _candidates), or None.

    Pieces lie between the needle's " " and "="; only ASCII ones qualify. Of several, the
    one rarest in ``sample`` (a block, or anything else) is taken for every block.
    """
    pieces = [p.encode() for p in _SEPARATORS.split(needle) if p and p.isascii()]
    if len(pieces) > 1 and isinstance(sample, bytes):
        low = sample.lower()
        return min(pieces, key=low.count)
    return max(pieces, key=len) if pieces else None


def _candidates(block: bytes, offs: list[int], ends: list[int], piece: bytes | None
                ) -> list[int] | None:
    """Indices of the rows (of one kwargs block) whose map might match; None: all of them.

    ``piece`` (ASCII, lower case) is a part of the needle that lies inside one key or
    value, whose UTF-8 bytes msgpack stores verbatim: a row without it in its bytes, ASCII
    letters lowered, cannot match, unless it holds one of the non-ASCII characters that
    lower() turns into an ASCII letter (then every row is a candidate).
    """
    if piece is None:
        return None
    for letter, char in CASE_TO_ASCII.items():
        if letter in piece and char in block:
            return None
    low = block.lower() if piece.lower() != piece.upper() else block
    n = len(offs)
    rows: dict[int, None] = {}
    size = len(piece)
    found = 0
    pos = low.find(piece)
    while pos >= 0:
        found += 1
        if found > n:  # hardly selective: checking every row is cheaper
            return None
        i = bisect_right(offs, pos) - 1
        if i >= 0 and pos + size <= ends[i]:
            rows[i] = None
        pos = low.find(piece, pos + 1)
    return list(rows)


def _text_match(slot: Any, offs: list[int], ends: list[int], needle: str,
                piece: bytes | None) -> list[bool]:
    """For rows sharing one "kwargs" slot (ascending): does ``needle`` occur in their kwargs,
    written "key=value key=value" in lower case? ``offs``/``ends``: their maps' bytes."""
    n = len(offs)
    if offs[0] == NO_KWARGS_BLOCK:  # rows that keep their own dict (or None)
        return [bool(slot) and needle in _kwargs_text(slot).lower()] * n
    rows = _candidates(slot, offs, ends, piece)
    if rows is None:
        if offs[1:] == ends[:-1]:
            # Adjacent rows (the usual case: a whole block): one decode, text tests in C.
            texts = map(str.lower, map(_kwargs_text, unpack_kwargs_rows(
                slot, offs[0], ends[-1], n)))
            return list(map(str.__contains__, texts, repeat(needle)))
        rows = list(range(n))
    hits = [False] * n
    for i in rows:
        kwargs = unpack_kwargs(slot, offs[i], ends[i] - offs[i])
        hits[i] = bool(kwargs) and needle in _kwargs_text(kwargs).lower()
    return hits


def _kwargs_hits(store: DispatchStore, rows: np.ndarray, needle: str) -> list[bool]:
    """For each of ``rows`` (ascending): does ``needle`` occur in its kwargs text?"""
    # Rows sharing a kwargs block are adjacent and a block's first row has offset 0 (maps
    # are never empty): runs of ``rows`` in one block follow from the blocks' first rows.
    kwoff = store.column("kwoff")
    starts = np.flatnonzero(kwoff <= 0) + store.first  # block starts and unpacked rows
    run = np.searchsorted(starts, rows, side="right")  # 0: the block evicted rows began
    cuts = [0, *(np.flatnonzero(run[1:] != run[:-1]) + 1).tolist(), len(rows)]
    slots = store.column("kwargs", rows[cuts[:-1]]).tolist()
    begin = store.column("kwoff", rows)
    offs, ends = begin.tolist(), (begin + store.column("kwlen", rows)).tolist()
    piece = _piece(needle, slots[0])
    hits: list[bool] = []
    for slot, a, b in zip(slots, cuts[:-1], cuts[1:], strict=True):
        hits += _text_match(slot, offs[a:b], ends[a:b], needle, piece)
    return hits


def select(store: DispatchStore, strings: StringTable, processes: ProcessTable,
           f: Filter, since: int | None = None) -> np.ndarray:
    """Absolute rows matching ``f``, ascending. Reads the store in place; never copies it.

    ``since``: only rows from that absolute row on (a live view asking for its new rows
    must not rescan the store, least of all the kwargs that ``text`` reads in Python).
    """
    ring = store.dispatches
    cols = ring.columns
    first, n = store.first, len(store)
    if n == 0 or (since is not None and since >= store.end):
        return EMPTY
    # Criteria that name things nobody ever sent match nothing: answer without scanning.
    tests: list[tuple[str, np.ndarray]] = []
    for column, names in (("signal", f.signals), ("sender", f.senders)):
        if names is not None:
            ids = _ids(strings, names)
            if not len(ids):
                return EMPTY
            tests.append((column, ids))
    if f.processes is not None:
        wanted = [p.index for p in processes.by_index
                  if p.key in f.processes or p.label in f.processes]
        if not wanted:
            return EMPTY
        tests.append(("proc", np.asarray(wanted, dtype=np.int64)))
    if f.request is not None:
        rid = store.requests.lookup(f.request)
        if rid is None:
            return EMPTY
        tests.append(("request", np.asarray([rid], dtype=np.int64)))
    keep: np.ndarray | None = None  # boolean over the live range [first, end)
    if f.receivers is not None:
        ids = _ids(strings, f.receivers)
        if not len(ids):
            return EMPTY
        keep = np.zeros(n, dtype=bool)
        keep[_receiver_hits(store, ids) - first] = True

    found = []
    for lo, hi, base in ring.segments(since):
        mask = np.ones(hi - lo, dtype=bool) if keep is None else keep[base - first:
                                                                      base - first + hi - lo]
        for column, ids in tests:
            col = cols[column][lo:hi]
            mask &= (col == ids[0]) if len(ids) == 1 else np.isin(col, ids)
        if f.outcome == "raised":
            mask &= cols["error"][lo:hi]
        elif f.outcome == "slow":
            mask &= cols["dur"][lo:hi] >= int(f.slow_ms * 1_000_000)
        if f.tx == "inside":
            mask &= cols["tx_depth"][lo:hi] > 0
        elif f.tx == "discarded":  # rolled back: its transaction, or a callback it queued
            mask &= (cols["cb"][lo:hi] & (DISCARDED | UNDONE)) != 0
        if f.t0 is not None:
            mask &= cols["ts"][lo:hi] >= f.t0
        if f.t1 is not None:
            mask &= cols["ts"][lo:hi] < f.t1
        found.append(np.flatnonzero(mask) + base)
    rows = np.concatenate(found) if found else EMPTY
    if f.text:
        rows = _filter_text(store, strings, rows, f.text.lower())
    return rows.astype(np.int64, copy=False)


def _filter_text(store: DispatchStore, strings: StringTable, rows: np.ndarray,
                 needle: str) -> np.ndarray:
    ids = np.asarray(strings.matching(needle), dtype=np.int64)
    by_name = np.zeros(len(rows), dtype=bool)
    if len(ids):
        by_name |= np.isin(store.column("signal", rows), ids)
        by_name |= np.isin(store.column("sender", rows), ids)
        by_name |= np.isin(rows, _receiver_hits(store, ids))
    # kwargs are free-form: scan them only for rows the names did not already match.
    rest = np.flatnonzero(~by_name)
    if len(rest):
        by_name[rest] = _kwargs_hits(store, rows[rest], needle)
    return rows[by_name]

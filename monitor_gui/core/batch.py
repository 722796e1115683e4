"""Turns resolved dispatch columns into store columns and graph aggregates, column-wise.

Per-event Python work is what limits ingest, so everything here works on whole columns:
``zip(*events)`` transposes the batch at C speed, strings are interned with
``map(dict.__getitem__)``, and edge aggregates are numpy group-bys over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.evictable import EvictableStrings
from monitor_gui.core.graph import (
    SENDER_TO_SIGNAL,
    SIGNAL_TO_RECEIVER,
    Edge,
    EdgeKey,
    SignalGraph,
    receiver_label,
)
from monitor_gui.core.requests import RequestTable
from monitor_gui.core.ring import _as_array
from monitor_gui.core.store import METHOD_CODES, NO_ID, OUTCOME_CODES, pack_kwargs
from monitor_gui.core.strings import StringTable
from monitor_gui.core.transactions import tx_columns

_RAISED = OUTCOME_CODES[wire.RAISED]
_SKIPPED = OUTCOME_CODES[wire.SKIPPED]
_I64 = np.dtype(np.int64)
# dict.get(value, value) maps None to a placeholder and passes any other (hashable)
# value through, at C speed over a whole column (``map(d.get, col, col)``).
_PARENT_OR_NONE = {None: NO_ID}.get
# Most receivers return None: share one str object per common summary instead of a
# fresh decoded copy per call (~50 bytes each, 100 MB per million dispatches).
_COMMON_VALUES: dict[str | None, str | None] = {
    v: v for v in ("None", "True", "False", "0", "1", "[]", "{}", "()", "''")}


def label_id(labels: dict[tuple[int, int], int], strings: StringTable,
             pair: tuple[int, int]) -> int:
    """The interned receiver label of a (module id, name id) pair, remembered in ``labels``
    (hashing two small ints is far cheaper than hashing pairs of strings)."""
    lid = labels.get(pair)
    if lid is None:
        get = strings.get
        lid = labels[pair] = strings.intern(receiver_label(get(pair[0]) or "",
                                                           get(pair[1]) or ""))
    return lid


@dataclass(slots=True)
class Batch:
    rows: dict[str, Any]  # dispatch columns (lists or arrays), see store.DISPATCH_COLUMNS
    receivers: dict[str, Any]  # receiver columns, see store.RECEIVER_COLUMNS
    count: int
    rcount: int
    # Aggregation inputs (numpy, one entry per dispatch / per receiver call).
    signal: np.ndarray
    sender: np.ndarray
    ts: np.ndarray
    dur: np.ndarray
    error: np.ndarray
    owner: np.ndarray  # receiver -> index of its dispatch in the batch
    label: np.ndarray
    rdur: np.ndarray
    outcome: np.ndarray
    parents: Sequence[int | None]  # parent dispatch ids as sent (None: top level)
    nested: np.ndarray  # ascending indices of the dispatches that have a parent id


def build(cols: Sequence[Sequence[Any]], sites: Sequence[Sequence[Any]],
          reqs: Sequence[Any], rcols: Sequence[Sequence[Any]], procs: list[int],
          start: int, rstart: int, strings: StringTable, requests: RequestTable,
          threads: EvictableStrings, labels: dict[tuple[int, int], int]) -> Batch:
    """Store columns for resolved dispatch columns (decode.Columns) from row ``start``.

    ``cols`` are in wire.Dispatch field order, with the names resolved (their ``site`` and
    ``request`` entries are not used: ``sites`` holds the call-site file, line and function
    columns, ``reqs`` the resolved (id, method, path) triples or None); ``rcols`` are the
    receiver-call columns of all dispatches, in order. Request ids and thread names go to
    their evictable tables (unbounded vocabularies), not ``strings``.
    """
    (_, ts, ids, parents, signals, senders, methods, durs, thread_names, tids, _, _,
     kwargs, receivers, raised, txs) = cols
    site_files, site_lines, site_funcs = sites
    n = len(ts)
    intern_many = strings.intern_many
    sid = np.asarray(intern_many(signals), np.int64)
    snd = np.asarray(intern_many(senders), np.int64)
    nrecv = np.fromiter(map(len, receivers), np.int64, n)
    ts_a = _as_array(ts, _I64)
    dur_a = _as_array(durs, _I64)
    req_ids = requests.intern_many(reqs)
    owner = np.repeat(np.arange(n), nrecv)
    pdid = _as_array(list(map(_PARENT_OR_NONE, parents, parents)), _I64)
    rows: dict[str, Any] = {
        "ts": ts_a, "dur": dur_a, "did": ids,
        "pdid": pdid,
        "signal": sid, "sender": snd, "proc": procs,
        "method": list(map(METHOD_CODES.__getitem__, methods)),
        "raised": raised, "nrecv": nrecv,
        "rstart": np.cumsum(nrecv) - nrecv + rstart,
        "thread": threads.intern_many(thread_names), "tid": tids, "request": req_ids,
        "site_file": intern_many(site_files),
        "site_line": site_lines,
        "site_func": intern_many(site_funcs),
    }
    rows["kwargs"], rows["kwoff"], rows["kwlen"] = pack_kwargs(kwargs)
    rows["tx_alias"], rows["tx_depth"] = tx_columns(txs, intern_many)
    rows["cb"] = np.zeros(n, np.int8)  # callbacks' flags, set as their events arrive
    flat = rcols[0]
    if len(flat):
        names, modules, files, lines, asyncs, rdurs, outcomes, values, exc_types, exc_msgs = rcols
        name_ids = intern_many(names)
        module_ids = intern_many(modules)
        # The label is looked up by the (module id, name id) pair (see label_id).
        try:
            lid = list(map(labels.__getitem__, zip(module_ids, name_ids, strict=True)))
        except KeyError:
            for pair in set(zip(module_ids, name_ids, strict=True)) - labels.keys():
                label_id(labels, strings, pair)
            lid = list(map(labels.__getitem__, zip(module_ids, name_ids, strict=True)))
        lid = np.asarray(lid, np.int64)
        out = np.fromiter(map(OUTCOME_CODES.__getitem__, outcomes), dtype=np.int8,
                          count=len(flat))
        common = _COMMON_VALUES.get
        texts = list(map(common, values, values))  # C speed; raised rows fixed below
        for i in np.flatnonzero(out == _RAISED).tolist():
            texts[i] = exc_msgs[i]
        rdur_a = _as_array(rdurs, _I64)
        rcols: dict[str, Any] = {
            "dispatch": owner + start, "label": lid, "name": name_ids,
            "module": module_ids, "file": intern_many(files), "line": lines,
            "is_async": asyncs, "dur": rdur_a, "outcome": out,
            "exc_type": intern_many(exc_types), "text": texts,
        }
        receiver_raised = np.bincount(owner, weights=out == _RAISED, minlength=n) > 0
        error = np.asarray(raised, dtype=bool) | receiver_raised
    else:
        rcols = {}
        lid, out, rdur_a = [], np.empty(0, np.int8), np.empty(0, np.int64)
        error = np.asarray(raised, dtype=bool)
    rows["error"] = error
    return Batch(rows, rcols, n, len(flat), sid, snd, ts_a, dur_a, error, owner,
                 np.asarray(lid, np.int64), rdur_a, out, parents,
                 np.flatnonzero(pdid != NO_ID))


def merge(batches: list[Batch]) -> Batch:
    """One batch holding the aggregation inputs of ``batches`` (for ``aggregate``).

    Sub-batches are applied one frame at a time to stay cache-warm, but folding them into
    the graph costs a few dozen numpy calls per call whatever its size: it is done once
    per ``apply`` over the merged inputs. Only the aggregation fields are merged.
    """
    if len(batches) == 1:
        return batches[0]
    offsets = np.cumsum([0] + [b.count for b in batches[:-1]])
    cat = np.concatenate
    return Batch(
        {}, {}, sum(b.count for b in batches), sum(b.rcount for b in batches),
        cat([b.signal for b in batches]), cat([b.sender for b in batches]),
        cat([b.ts for b in batches]), cat([b.dur for b in batches]),
        cat([b.error for b in batches]),
        cat([b.owner + off for b, off in zip(batches, offsets.tolist(), strict=True)]),
        cat([b.label for b in batches]), cat([b.rdur for b in batches]),
        cat([b.outcome for b in batches]), [], np.empty(0, np.int64))


def _groups(keys: np.ndarray, ran: np.ndarray, dur: np.ndarray, ts: np.ndarray,
            err: np.ndarray) -> tuple[list[int], list[list[int]]]:
    """Per distinct key: [count, skipped, errors, total_ns, max_ns, last_ts]."""
    uniq, inv = np.unique(keys, return_inverse=True)
    m = len(uniq)
    ran_i = ran.astype(np.int64)
    count = np.bincount(inv, weights=ran_i, minlength=m)
    skipped = np.bincount(inv, weights=1 - ran_i, minlength=m)
    errors = np.bincount(inv, weights=err, minlength=m)
    total = np.zeros(m, np.int64)
    np.add.at(total, inv, np.where(ran, dur, 0))
    top = np.zeros(m, np.int64)
    np.maximum.at(top, inv, np.where(ran, dur, 0))
    last = np.zeros(m, np.int64)
    np.maximum.at(last, inv, np.where(ran, ts, 0))
    stats = np.stack([count.astype(np.int64), skipped.astype(np.int64),
                      errors.astype(np.int64), total, top, last], axis=1)
    return uniq.tolist(), stats.tolist()


def _update(edge: Edge, s: list[int]) -> None:
    count, skipped, errors, total, top, last = s
    edge.count += count
    edge.skipped += skipped
    edge.errors += errors
    edge.total_ns += total
    if top > edge.max_ns:
        edge.max_ns = top
    if last > edge.last_ts:
        edge.last_ts = last


def aggregate(batch: Batch, graph: SignalGraph, strings: StringTable) -> list[EdgeKey]:
    """Fold the batch into the graph's edges; return the edges that fired."""
    get = strings.get
    fired: list[EdgeKey] = []
    # Sender -> signal: every dispatch counts; errors are dispatches with any error.
    keys = (batch.sender << 32) | batch.signal
    ran = np.ones(batch.count, dtype=bool)
    for key, s in zip(*_groups(keys, ran, batch.dur, batch.ts, batch.error), strict=True):
        ids = (key >> 32, key & 0xFFFFFFFF)
        edge = graph.sent.get(ids)
        if edge is None:
            edge = graph.sent[ids] = Edge(SENDER_TO_SIGNAL, get(ids[0]) or "", get(ids[1]) or "")
        _update(edge, s)
        fired.append(edge.key)
    if batch.rcount:
        rsig = batch.signal[batch.owner]
        keys = (rsig << 32) | batch.label
        ran = batch.outcome != _SKIPPED
        err = batch.outcome == _RAISED
        groups = _groups(keys, ran, batch.rdur, batch.ts[batch.owner], err)
        for key, s in zip(*groups, strict=True):
            ids = (key >> 32, key & 0xFFFFFFFF)
            edge = graph.calls.get(ids)
            if edge is None:
                edge = graph.calls[ids] = Edge(SIGNAL_TO_RECEIVER, get(ids[0]) or "",
                                               get(ids[1]) or "")
            _update(edge, s)
            fired.append(edge.key)
    return fired

"""The compiled ingest path: runs of frames decoded by ``_colframe`` into batch columns.

``_colframe`` (C, optional) reads consecutive frames of valid dispatches straight into
packed numeric columns and string-index columns (see its source's docstring): no Python
object per field. Here those become a ``batch.Batch`` exactly like the one
``batch.build`` makes from the Python decoders' output, with per-*distinct*-string work
only (a few dozen strings per run instead of ~15 per dispatch). Frames it does not take
(heartbeats, malformed or unusual input) go through ``fastwire`` as before, so every
verdict on bad input is still wire's. Without a C compiler the module is absent and
``AVAILABLE`` is False; everything else works the same, only slower.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from django_probe import wire
from monitor_gui.core.batch import _COMMON_VALUES, _RAISED, Batch, label_id
from monitor_gui.core.evictable import EvictableStrings
from monitor_gui.core.requests import RequestTable
from monitor_gui.core.store import NO_ID
from monitor_gui.core.strings import NO_STRING, StringTable

try:
    from monitor_gui.core import _colframe  # type: ignore[attr-defined]
except ImportError:  # no compiler at install time: the pure-Python path does everything
    _colframe = None

AVAILABLE = _colframe is not None and os.environ.get("SIGNAL_MONITOR_NO_ACCEL") != "1"
# Dispatches per decoded run: large enough that the ~40 numpy calls per run cost little
# per row, small enough that a backlog does not inflate RSS (~100 bytes per row here).
RUN_EVENTS = 8192

if _colframe is not None:
    assert wire.OUTCOMES[1] == wire.RAISED  # _colframe picks a raised call's message by index
    _colframe.configure(wire.MAGIC, wire.PROTOCOL_VERSION, wire.KIND_DISPATCH, wire.METHODS,
                        wire.OUTCOMES, wire.MAX_STR, wire.MAX_ITEMS, wire.MAX_EVENTS_PER_FRAME,
                        wire.MAX_FRAME_BYTES, int.from_bytes(os.urandom(8), "little"))

_I64, _I32, _I8, _U8 = np.int64, np.int32, np.int8, np.uint8
_DTYPES = {
    "ts": _I64, "did": _I64, "pdid": _I64, "dur": _I64, "tid": _I64, "signal": _I32,
    "sender": _I32, "method": _I8, "thread": _I32, "site_file": _I32, "site_line": _I32,
    "site_func": _I32, "req_id": _I32, "req_method": _I32, "req_path": _I32, "nrecv": _I32,
    "raised": _U8, "kwoff": _I32, "kwlen": _I32,
    "r_name": _I32, "r_module": _I32, "r_file": _I32, "r_line": _I32, "r_async": _U8,
    "r_dur": _I64, "r_outcome": _I8, "r_exc_type": _I32, "r_text": _I32,
}


def decode_run(frames: list[Any], start: int) -> tuple[int, dict[str, Any] | None, bool]:
    """Decode frames[start:] while ``_colframe`` takes them: (frames taken, run or None,
    refused), where ``refused`` says the next frame is one it does not take (it stopped
    there, not because the run was full).

    The run's columns are numpy views of its packed buffers; "headers" lists
    (pid, host, boot, seq, count) per frame taken.
    """
    taken, res, refused = _colframe.decode_run(frames, start, RUN_EVENTS)
    if not taken:
        return 0, None, refused
    for name, dtype in _DTYPES.items():
        res[name] = np.frombuffer(res[name], dtype)
    return taken, res, refused


def _lookup(ids: list[int]) -> np.ndarray:
    """A table's ids as an array indexed by table index, where index -1 gives NO_STRING."""
    return np.asarray([*ids, NO_STRING], np.int64)


def _first_of_each(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-negative values of ``idx`` and the position of each one's first use."""
    values, first = np.unique(idx, return_index=True)
    if len(values) and values[0] < 0:
        values, first = values[1:], first[1:]
    return values, first


def build_run(res: dict[str, Any], lo: int, hi: int, procs: np.ndarray, start: int,
              rstart: int, strings: StringTable, requests: RequestTable,
              threads: EvictableStrings, labels: dict[tuple[int, int], int]) -> Batch:
    """The Batch of dispatches [lo, hi) of a decoded run, its rows starting at ``start``.

    Same columns and aggregation inputs as ``batch.build`` (string ids may be handed out
    in another order: ids carry no meaning).
    """
    nrecv_all = res["nrecv"]
    r_off = np.concatenate(([0], np.cumsum(nrecv_all, dtype=np.int64)))
    rlo, rhi = int(r_off[lo]), int(r_off[hi])
    n, m = hi - lo, rhi - rlo
    names, free = res["names"], res["free"]
    name_id = _lookup(strings.intern_many(names))

    def d(col: str) -> np.ndarray:
        return res[col][lo:hi]

    def r(col: str) -> np.ndarray:
        return res[col][rlo:rhi]

    sid, snd = name_id[d("signal")], name_id[d("sender")]
    nrecv = d("nrecv").astype(np.int64)
    ts, dur, pdid = d("ts"), d("dur"), d("pdid")
    # Threads and requests: unbounded vocabularies with their own evictable tables.
    thread_idx = d("thread")
    used, _ = _first_of_each(thread_idx)
    thread_lut = np.full(len(free) + 1, NO_STRING, np.int64)
    thread_lut[used] = threads.intern_many([free[i] for i in used.tolist()])
    req_idx = d("req_id")
    request_lut = np.full(len(free) + 1, NO_STRING, np.int64)
    used, first = _first_of_each(req_idx)
    if len(used):
        methods, paths = d("req_method")[first].tolist(), d("req_path")[first].tolist()
        request_lut[used] = requests.intern_many(
            [(free[i], names[mi], free[p]) for i, mi, p in
             zip(used.tolist(), methods, paths, strict=True)])
    kwoff, kwlen = d("kwoff"), d("kwlen")
    kw_lo = int(kwoff[0]) if n else 0
    kw_hi = int(kwoff[-1] + kwlen[-1]) if n else 0
    block = res["kwargs"] if (kw_lo, kw_hi) == (0, len(res["kwargs"])) else \
        res["kwargs"][kw_lo:kw_hi]
    raised = d("raised").view(np.bool_)
    rows: dict[str, Any] = {
        "ts": ts, "dur": dur, "did": d("did"), "pdid": pdid, "signal": sid, "sender": snd,
        "proc": procs, "method": d("method"), "raised": raised, "nrecv": nrecv,
        "rstart": np.cumsum(nrecv) - nrecv + rstart, "thread": thread_lut[thread_idx],
        "tid": d("tid"), "request": request_lut[req_idx], "site_file": name_id[d("site_file")],
        "site_line": d("site_line"), "site_func": name_id[d("site_func")],
        "kwargs": [block] * n, "kwoff": kwoff - kw_lo, "kwlen": kwlen,
    }
    owner = np.repeat(np.arange(n), nrecv)
    if m:
        name_ids, module_ids = name_id[r("r_name")], name_id[r("r_module")]
        # A receiver's label per distinct (module, name) pair.
        pairs, inverse = np.unique((module_ids << 32) | name_ids, return_inverse=True)
        lut = [label_id(labels, strings, (key >> 32, key & 0xFFFFFFFF))
               for key in pairs.tolist()]
        lid = np.asarray(lut, np.int64)[inverse.reshape(-1)]
        out, rdur = r("r_outcome"), r("r_dur")
        texts = res["texts"][rlo:rhi]
        common = _COMMON_VALUES.get
        rcols: dict[str, Any] = {
            "dispatch": owner + start, "label": lid, "name": name_ids, "module": module_ids,
            "file": name_id[r("r_file")], "line": r("r_line"),
            "is_async": r("r_async").view(np.bool_), "dur": rdur, "outcome": out,
            "exc_type": name_id[r("r_exc_type")], "text": list(map(common, texts, texts)),
        }
        receiver_raised = np.bincount(owner, weights=out == _RAISED, minlength=n) > 0
        error = raised | receiver_raised
    else:
        rcols = {}
        lid, out, rdur = np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, np.int64)
        error = raised.copy()
    rows["error"] = error
    nested = np.flatnonzero(pdid != NO_ID)
    # Parent ids as sent (None: top level), as nesting expects them.
    parents: list[int | None] = [None] * n
    for i, p in zip(nested.tolist(), pdid[nested].tolist(), strict=True):
        parents[i] = p
    return Batch(rows, rcols, n, m, sid, snd, ts, dur, error, owner, lid, rdur, out,
                 parents, nested)

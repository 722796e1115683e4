"""Timeline lane keys and titles for each lane mode (signal, thread, request, process, flame)."""

from __future__ import annotations

from typing import Any

import numpy as np

# The store column that keys a lane, except "flame" (requests, else process and thread).
LANE_MODES = ("signal", "thread", "request", "proc", "flame")
_PROC_BITS = 16  # MAX_PROCESSES (4096) fits in the low bits of a flame lane key


def lane_keys(store: Any, mode: str, rows: np.ndarray) -> np.ndarray:
    """The lane key of each absolute store row in ``mode`` (int64)."""
    if mode != "flame":
        return store.column(mode, rows).astype(np.int64)
    # A flame chart stacks a request's nested dispatches. Dispatches outside any request
    # (management commands, tests) are stacked per process and thread instead: mixing
    # concurrent threads in one lane would draw unrelated calls as nested.
    request = store.column("request", rows).astype(np.int64)
    thread = store.column("thread", rows).astype(np.int64)
    proc = store.column("proc", rows).astype(np.int64)
    outside = -2 - ((np.maximum(thread, 0) << _PROC_BITS) | proc)
    return np.where(request >= 0, request, outside)


def lane_title(state: Any, mode: str, key: int) -> str:
    """The gutter title of lane ``key`` in ``mode``."""
    store = state.store
    if mode in ("request", "flame") and key >= 0:
        info = store.requests.get(key)
        return f"{info.method} {info.path} · {info.id}" if info else "(evicted request)"
    if mode == "flame" and key <= -2:
        thread, proc = divmod(-2 - key, 1 << _PROC_BITS)
        return f"{_proc_label(state, proc)} · {store.threads.get(thread) or '?'}"
    if key < 0:
        return "(no request)" if mode in ("request", "flame") else "(none)"
    if mode == "thread":
        return store.threads.get(key) or "(evicted thread)"
    if mode == "proc":
        return _proc_label(state, key)
    return state.strings.get(key) or ""


def _proc_label(state: Any, index: int) -> str:
    procs = state.process_table.by_index
    return procs[index].label if 0 <= index < len(procs) else f"process {index}"

"""Thread names are kept only while live rows use them: thread-per-request stays bounded."""

from __future__ import annotations

import numpy as np

from monitor_gui.core.evictable import EvictableStrings
from monitor_gui.core.query import Filter
from monitor_gui.core.state import MonitorState
from monitor_gui.core.strings import NO_STRING
from tests.monitor_gui.core.events import dispatch, frame

CAPACITY = 200


def _name(n: int) -> str:
    return f"Thread-{n} (process_request_thread)"  # as Django's threaded runserver names them


def _thread_frames(count: int, per_thread: int = 2, batch: int = 50) -> list[bytes]:
    """``count`` dispatches, each thread (a new name, as per request) running ``per_thread``."""
    return [frame([dispatch(i, thread=_name(i // per_thread), request=f"req-{i // per_thread}")
                   for i in range(start, start + batch)], seq=start)
            for start in range(0, count, batch)]


def _live_threads(state: MonitorState) -> set[int]:
    return set(state.store.column("thread").tolist()) - {NO_STRING}


def test_thread_names_and_strings_stay_bounded_by_the_live_rows():
    state = MonitorState(capacity=CAPACITY)
    frames = _thread_frames(50 * CAPACITY)  # 25x more unique thread names than live ones
    state.apply(frames[:4])
    vocabulary = len(state.strings)
    most = 0
    for i in range(4, len(frames), 3):
        state.apply(frames[i:i + 3])
        assert len(state.strings) == vocabulary  # thread names are not interned
        most = max(most, len(state.store.threads))
    live = len(_live_threads(state))
    assert live == CAPACITY // 2
    # Between sweeps at most a quarter of the capacity of evicted rows, plus one apply.
    assert most <= live + CAPACITY // 4 + 150
    state.store.sweep()
    assert len(state.store.threads) == live
    assert len(state.store.requests) == live  # one sweep forgets both


def test_live_rows_keep_their_thread_names_after_sweeps():
    state = MonitorState(capacity=CAPACITY)
    state.apply(_thread_frames(10 * CAPACITY))
    state.store.sweep()
    store = state.store
    for row in range(store.first, store.end):
        assert store.row(row).thread == _name(row // 2)
    names = [store.threads.get(t) for t in store.column("thread").tolist()]
    assert names == [_name(r // 2) for r in range(store.first, store.end)]
    # Thread lanes key on the column's ids: one distinct key per live thread name.
    assert len(np.unique(store.column("thread"))) == len(set(names)) == CAPACITY // 2
    assert store.threads.lookup(_name(0)) is None  # evicted threads are forgotten
    # Queries over other columns are unaffected; a thread name is not a text match.
    last = 10 * CAPACITY // 2 - 1
    assert state.select(Filter(request=f"req-{last}")).tolist() == [store.end - 2, store.end - 1]
    assert len(state.select(Filter(text="process_request_thread"))) == 0


def test_a_thread_still_in_use_survives_while_its_early_rows_are_evicted():
    state = MonitorState(capacity=8)
    for i in range(40):  # MainThread keeps dispatching; per-request threads come and go
        name = "MainThread" if i % 2 else _name(i)
        state.apply([frame([dispatch(i, thread=name)], seq=i)])
    assert state.store.threads.lookup("MainThread") is not None
    assert len(state.store.threads) <= 1 + 8  # MainThread plus the live (or unswept) others
    assert state.store.row(39).thread == "MainThread"
    assert state.store.row(38).thread == _name(38)


def test_clear_forgets_thread_names():
    state = MonitorState(capacity=CAPACITY)
    state.apply(_thread_frames(100))
    state.clear()
    assert len(state.store.threads) == 0 and state.store.threads.lookup(_name(1)) is None
    state.apply(_thread_frames(50))
    assert state.store.row(state.store.first).thread == _name(0)


def test_evictable_strings_never_reuse_a_live_id():
    table = EvictableStrings()
    assert table.intern_many(["a", None, "a", "b"]) == [0, NO_STRING, 0, 1]
    assert table.get(0) == "a" and table.get(NO_STRING) is None
    assert table.retain(np.asarray([1, NO_STRING], np.int32)) == 1
    assert table.get(0) is None and table.lookup("a") is None and table.lookup(None) is None
    assert table.intern_many(["a"]) == [2]  # a fresh id, not 0 again
    table._next = 2**31 - 1  # the int32 column's last id, then the counter wraps
    assert table.intern_many(["c", "d"]) == [2**31 - 1, 0]
    table._next = 1
    assert table.intern_many(["e"]) == [3]  # 1 and 2 are still in use
    assert len(table) == 5

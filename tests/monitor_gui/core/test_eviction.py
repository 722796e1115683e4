"""Bounds: the dispatch and receiver rings evict from the front and report it in Changes."""

from __future__ import annotations

import pytest

from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import dispatch, frame, receiver


def test_eviction_moves_first_and_reports_changes():
    state = MonitorState(capacity=4)
    assert state.apply([frame([dispatch(i) for i in range(3)])]).appended == 3
    changes = state.apply([frame([dispatch(i) for i in range(3, 6)], seq=3)])
    assert (changes.appended, changes.evicted) == (3, 2)
    assert (state.store.first, state.store.end, len(state.store)) == (2, 6, 4)
    assert [state.store.row(r).id for r in range(2, 6)] == [2, 3, 4, 5]
    with pytest.raises(IndexError):
        state.store.row(1)
    with pytest.raises(IndexError):
        state.store.row(6)
    assert state.totals.dispatches == 6 and state.totals.stored == 4


def test_a_batch_larger_than_the_store_keeps_its_tail():
    state = MonitorState(capacity=4)
    state.apply([frame([dispatch(0), dispatch(1)])])
    changes = state.apply([frame([dispatch(i) for i in range(2, 12)], seq=2)])
    # Of the 2 rows visible before, 2 went; of the 10 new rows only the last 4 are visible.
    assert (changes.evicted, changes.appended) == (2, 4)
    assert [state.store.row(r).id for r in range(state.store.first, state.store.end)] == [
        8, 9, 10, 11]
    assert state.store.column("did").tolist() == [8, 9, 10, 11]


def test_receiver_ring_overflow_evicts_whole_dispatches():
    state = MonitorState(capacity=100, receiver_capacity=5)
    many = [receiver(f"r{i}", "m") for i in range(3)]
    state.apply([frame([dispatch(1, receivers=many), dispatch(2, receivers=many)])])
    # 6 receiver rows do not fit in 5: dispatch 1 lost a receiver, so it goes entirely.
    assert (state.store.first, state.store.end) == (1, 2)
    assert len(state.store.row(1).receivers) == 3


def test_evicted_parent_is_not_linked():
    state = MonitorState(capacity=2)
    state.apply([frame([dispatch(1), dispatch(2), dispatch(3)])])
    state.apply([frame([dispatch(4, parent=1)], seq=3)])
    row = state.store.row(3)
    assert row.parent_row is None and row.depth == 1


def test_ring_wraps_many_times_and_columns_stay_consistent():
    state = MonitorState(capacity=7)
    seq = 0
    for batch in range(20):
        events = [dispatch(seq + i, signal=f"s{(seq + i) % 3}") for i in range(batch % 5 + 1)]
        state.apply([frame(events, seq=seq)])
        seq += len(events)
    first, end = state.store.first, state.store.end
    assert end == seq and end - first == 7
    assert state.store.column("did").tolist() == list(range(first, end))
    assert [state.store.row(r).signal for r in range(first, end)] == [
        f"s{i % 3}" for i in range(first, end)]

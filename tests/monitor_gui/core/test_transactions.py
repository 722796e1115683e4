"""Transactions in the monitor core: each row's TxContext, on_commit callbacks attached to
the row that queued them (sent before or after it), flags, the filter, recordings."""

from __future__ import annotations

from django_probe import wire
from monitor_gui.core.query import Filter
from monitor_gui.core.recording import RecordingWriter, read_recording
from monitor_gui.core.state import MonitorState
from monitor_gui.core.transactions import DISCARDED, FAILED, HAS_CALLBACKS
from tests.monitor_gui.core.events import OTHER, PROC, Interning, dispatch, frame

TX = wire.TxContext("default", 1)


def callback(did: int, outcome: str = wire.RETURNED, name: str = "send_email",
             depth: int = 1) -> wire.OnCommit:
    raised = outcome == wire.RAISED
    return wire.OnCommit(wire.KIND_ON_COMMIT, 10, did, "default", depth, name, "app.mail",
                         "/app/mail.py", 3, wire.CallSite("/app/receivers.py", 9, "on_save"),
                         False, outcome, 20, 5 if outcome in (wire.RETURNED, wire.RAISED) else 0,
                         "KeyError" if raised else None, "'k'" if raised else None)


def test_a_row_keeps_its_transaction_context_and_the_filter_finds_it():
    state = MonitorState(capacity=10)
    state.apply([frame([dispatch(1), dispatch(2, tx=TX), dispatch(3, tx=TX._replace(depth=3))])])
    assert [state.store.row(r).tx for r in range(3)] == [None, TX, TX._replace(depth=3)]
    assert state.store.row(1).to_dispatch() == dispatch(2, tx=TX)
    assert state.select(Filter(tx="inside")).tolist() == [1, 2]
    assert state.select(Filter(tx="discarded")).tolist() == []


def test_callbacks_that_come_after_their_dispatch_update_its_row():
    state = MonitorState(capacity=10)
    state.apply([frame([dispatch(1, tx=TX), dispatch(2, tx=TX)])])
    changes = state.apply([frame([callback(1), callback(2, wire.DISCARDED)], seq=2)])
    assert changes.updated == [0, 1]
    assert state.store.row(0).callbacks == [callback(1)]
    assert state.store.row(1).callbacks == [callback(2, wire.DISCARDED)]
    assert state.store.column("cb").tolist() == [HAS_CALLBACKS, HAS_CALLBACKS | DISCARDED]
    assert state.select(Filter(tx="discarded")).tolist() == [1]


def test_callbacks_sent_before_their_dispatch_wait_for_it():
    # autocommit: the callback runs (and is sent) while its dispatch is still running
    state = MonitorState(capacity=10)
    state.apply([frame([callback(7, wire.RAISED)])])
    assert state.store.callbacks.waiting
    state.apply([frame([callback(8), dispatch(8), dispatch(7)], seq=1)])
    assert state.store.row(1).callbacks[0].outcome == wire.RAISED
    assert state.store.column("cb").tolist() == [HAS_CALLBACKS, HAS_CALLBACKS | FAILED]
    assert not state.store.callbacks.waiting


def test_dispatch_ids_are_per_process():
    state = MonitorState(capacity=10)
    state.apply([frame([dispatch(1)]), frame([dispatch(1)], proc=OTHER)])
    state.apply([frame([callback(1, wire.DISCARDED)], seq=1, proc=OTHER)])
    assert [len(state.store.row(r).callbacks) for r in range(2)] == [0, 1]


def test_interned_names_are_resolved():
    state = MonitorState(capacity=10)
    sender = Interning()
    state.apply(sender.frames([dispatch(1, tx=TX), callback(1)]))
    row = state.store.row(0)
    assert row.tx == TX and row.callbacks == [callback(1)]


def test_a_recording_keeps_both(tmp_path):
    path = tmp_path / "tx.jsonl"
    with RecordingWriter(path) as writer:
        writer.write(wire.Frame(PROC, 0, [dispatch(1, tx=TX), callback(1, wire.DISCARDED)], 0))
    state = MonitorState(capacity=10)
    state.apply(list(read_recording(path)))
    assert state.store.row(0).tx == TX
    assert state.select(Filter(tx="discarded")).tolist() == [0]


def test_clear_forgets_callbacks():
    state = MonitorState(capacity=10)
    state.apply([frame([callback(3), dispatch(1), callback(1)])])
    state.clear()
    assert not state.store.callbacks.by_row and not state.store.callbacks.waiting


def test_evicted_rows_lose_their_callbacks_and_late_ones_are_bounded():
    state = MonitorState(capacity=2)
    state.apply([frame([dispatch(1), dispatch(2), dispatch(3)])])
    state.apply([frame([callback(1)], seq=3)])  # its row was evicted: it waits, bounded
    assert state.store.first == 1 and state.store.row(1).callbacks == []

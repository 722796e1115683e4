"""Rollbacks in the monitor core: the rows a wire.Rollback undid are marked (whole
transactions and savepoints), and only those: other threads, other transactions, other
processes, rows after the rollback; the filter, the row and a recording agree."""

from __future__ import annotations

from django_probe import wire
from monitor_gui.core.query import Filter
from monitor_gui.core.recording import RecordingWriter, read_recording
from monitor_gui.core.rollbacks import ROLLED_BACK
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, dispatch, frame

T0 = 1_700_000_000_000_000_000
TID = 4242  # the thread of events.dispatch()


def tx_dispatch(did: int, serial: int, *, depth: int = 1, tid: int = TID,
                alias: str = "default") -> wire.Dispatch:
    return dispatch(did, tx=wire.TxContext(alias, depth, serial))._replace(tid=tid)


def rollback(serial: int, ts: int, *, whole: bool = True, since: int = 0, tid: int = TID,
             alias: str = "default") -> wire.Rollback:
    return wire.Rollback(wire.KIND_ROLLBACK, ts, alias, serial, tid, whole, since)


def marked(state: MonitorState) -> list[int]:
    return [r for r in range(state.store.first, state.store.end)
            if state.store.row(r).rolled_back]


def test_a_whole_rollback_marks_its_transactions_rows_and_no_others():
    state = MonitorState(capacity=100)
    state.apply([frame([
        tx_dispatch(1, serial=1),             # 0: committed earlier (never told)
        tx_dispatch(2, serial=2),             # 1: rolled back
        dispatch(3),                          # 2: autocommit, same thread
        tx_dispatch(4, serial=2, depth=2),    # 3: rolled back (nested block)
        tx_dispatch(5, serial=7, tid=99),     # 4: another thread's transaction
        tx_dispatch(6, serial=2, alias="other"),  # 5: another database
    ])])
    changes = state.apply([frame([rollback(2, T0 + 10_000)], seq=6)])
    assert marked(state) == [1, 3]
    assert changes.updated == [1, 3]  # the views repaint those rows
    assert (state.store.column("cb")[[1, 3]] & ROLLED_BACK).all()
    assert state.select(Filter(tx="discarded")).tolist() == [1, 3]
    assert state.store.rollbacks.count == 1


def test_a_savepoint_rollback_marks_the_rows_since_the_savepoint():
    state = MonitorState(capacity=100)
    before, inside, after = (tx_dispatch(i, serial=3) for i in (1, 2, 3))
    state.apply([frame([before, inside])])
    savepoint = rollback(3, T0 + 2_500, whole=False, since=T0 + 1_500)
    state.apply([frame([savepoint, after], seq=2)])  # in one frame with a later dispatch
    assert marked(state) == [1]
    # The transaction is still open: a later whole rollback marks the rest.
    state.apply([frame([rollback(3, T0 + 5_000)], seq=4)])
    assert marked(state) == [0, 1, 2]



def test_a_dispatch_around_a_rolled_back_savepoint_stays_unmarked():
    # A receiver's own atomic() block failed: the inner dispatch ended (and was sent)
    # first, then the savepoint's rollback, then the outer dispatch, which began before
    # the savepoint (tests/django_probe/test_rollbacks.py).
    state = MonitorState(capacity=100)
    outer = tx_dispatch(1, serial=5)  # ts T0 + 1000
    inner = tx_dispatch(2, serial=5, depth=2)  # ts T0 + 2000
    state.apply([frame([inner, rollback(5, T0 + 2_500, whole=False, since=T0 + 1_500),
                        outer])])
    assert [state.store.row(r).id for r in range(2)] == [2, 1]
    assert marked(state) == [0]

def test_a_rollback_in_the_same_frame_as_its_dispatches_finds_them():
    state = MonitorState(capacity=100)
    state.apply([frame([tx_dispatch(1, serial=4), tx_dispatch(2, serial=4),
                        rollback(4, T0 + 9_000)])])
    assert marked(state) == [0, 1]


def test_serials_are_per_process():
    state = MonitorState(capacity=100)
    state.apply([frame([tx_dispatch(1, serial=1)]),
                 frame([tx_dispatch(1, serial=1)], proc=OTHER)])
    state.apply([frame([rollback(1, T0 + 9_000)], seq=1, proc=OTHER)])
    assert marked(state) == [1]


def test_a_rollback_of_rows_no_longer_stored_or_never_seen_changes_nothing():
    state = MonitorState(capacity=2)
    state.apply([frame([tx_dispatch(1, serial=5), dispatch(2), dispatch(3)])])  # 0 evicted
    state.apply([frame([rollback(5, T0 + 9_000), rollback(6, T0 + 9_000)], seq=3)])
    assert marked(state) == []
    assert state.store.rollbacks.count == 0


def test_a_recording_keeps_rollbacks(tmp_path):
    path = tmp_path / "r.jsonl"
    writer = RecordingWriter(path)
    events = [tx_dispatch(1, serial=2), rollback(2, T0 + 9_000)]
    writer.write(wire.decode_frame(frame(events)))
    writer.close()
    state = MonitorState(capacity=10)
    state.apply(list(read_recording(path)))
    assert marked(state) == [0]


def test_a_recording_made_before_serials_opens_with_serial_zero(tmp_path):
    import json

    path = tmp_path / "old.jsonl"
    record = wire.event_to_dict(tx_dispatch(1, serial=1))
    del record["tx"]["serial"]  # as protocol 3 wrote it
    record.update(proc={"pid": 1, "host": "h", "boot": "b"}, seq=0)
    path.write_text(json.dumps(record) + "\n")
    state = MonitorState(capacity=10)
    state.apply(list(read_recording(path)))
    assert state.store.row(0).tx == wire.TxContext("default", 1, 0)
    assert marked(state) == []


def test_each_test_of_a_testcase_is_a_savepoint_found_without_rescanning_the_class(
        monkeypatch):
    # TestCase: one transaction around the class, a savepoint around each test, rolled
    # back at its end. Each rollback starts its scan at the batch where its test began.
    state = MonitorState(capacity=1000)
    starts = []
    mark = state.store.rollbacks._mark
    monkeypatch.setattr(state.store.rollbacks, "_mark",
                        lambda store, proc, event, start: starts.append(start) or mark(
                            store, proc, event, start))
    did = 0
    for test in range(5):
        first_ts = T0 + (did + 1) * 1000
        frames = []
        for _batch in range(3):  # each test's dispatches come in three frames
            events = [tx_dispatch(did + i + 1, serial=1, depth=2) for i in range(4)]
            did += 4
            frames.append(frame(events, seq=did))
        state.apply(frames)
        state.apply([frame([rollback(1, T0 + did * 1000 + 500, whole=False,
                                     since=first_ts - 100)], seq=did + 1)])
    assert starts == [0, 12, 24, 36, 48]  # where each test's rows begin
    assert marked(state) == list(range(60))
    state.apply([frame([rollback(1, T0 + 10**9)], seq=999)])  # the class's end
    assert starts[-1] == 0 and state.store.rollbacks.spans == {}


def test_rollbacks_by_the_test_framework_are_marked_apart():
    from monitor_gui.core.rollbacks import ROLLED_BACK_BY_TEST

    state = MonitorState(capacity=100)
    state.apply([frame([tx_dispatch(1, serial=1), tx_dispatch(2, serial=2),
                        rollback(1, T0 + 9_000)._replace(by_test=True),
                        rollback(2, T0 + 9_000)])])
    rows = [state.store.row(r) for r in range(2)]
    assert [(r.rolled_back, r.by_test) for r in rows] == [(True, True), (True, False)]
    assert state.store.column("cb")[0] & ROLLED_BACK_BY_TEST
    assert not state.store.column("cb")[0] & ROLLED_BACK
    assert state.select(Filter(tx="discarded")).tolist() == [0, 1]  # both rolled back

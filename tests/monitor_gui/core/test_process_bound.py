"""The process table is bounded: frames from new processes beyond it are counted once
(as refused: neither as events nor as malformed), not kept."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_probe import wire
from monitor_gui.core.processes import MAX_PROCESSES, ProcessTable
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import dispatch, frame, heartbeat


def boot(i: int) -> wire.Proc:
    return wire.Proc(101, "web1", f"boot-{i}")  # same host:pid, a new instance each time


def key(i: int) -> tuple[str, int, str]:
    return ("web1", 101, f"boot-{i}")


def test_new_processes_beyond_the_bound_are_refused_and_counted_once():
    state = MonitorState(capacity=1000, max_processes=8)
    frames = [wire.encode_frame(boot(i), 0, [list(dispatch(1)), list(dispatch(2)), ["bad"]])
              for i in range(20)]
    changes = state.apply(frames)
    assert changes.processes_changed
    assert len(state.processes) == len(state.process_table.by_index) == 8
    assert set(state.processes) == {key(i) for i in range(8)}
    table = state.process_table
    assert table.full
    assert (table.refused_frames, table.refused_processes) == (12, 12)
    assert table.refused_events == 12 * 3  # every event of every refused frame, once
    assert table.unknown_malformed == 0  # not malformed: refused
    totals = state.totals
    assert (totals.events, totals.dispatches, totals.stored) == (16, 16, 16)
    assert totals.malformed == 8 * 1
    assert totals.lost == 0
    # Stored rows all belong to tracked processes and stay readable.
    assert {state.store.row(r).proc_key for r in range(state.store.first, state.store.end)} \
        == set(state.processes)


def test_known_processes_keep_being_applied_when_the_table_is_full():
    state = MonitorState(capacity=1000, max_processes=2)
    state.apply([frame([dispatch(1)], proc=boot(0)), frame([dispatch(1)], proc=boot(1))])
    for i in range(2, 50):
        state.apply([frame([dispatch(1)], proc=boot(i))])
    state.apply([frame([dispatch(2), dispatch(3)], seq=1, proc=boot(0)),
                 frame([heartbeat(dropped_send=4)], seq=3, proc=boot(1))])  # seq 1, 2 lost
    first, second = state.processes[key(0)], state.processes[key(1)]
    assert (first.events, first.dispatches, first.lost) == (3, 3, 0)
    assert (second.events, second.lost_gaps, second.dropped_send) == (2, 2, 4)
    assert len(state.processes) == 2
    assert (state.process_table.refused_events, state.process_table.refused_processes) == (48, 48)
    assert (state.totals.events, state.totals.lost, state.totals.malformed) == (5, 6, 0)


def test_undecodable_frames_of_refused_processes_count_once_as_malformed():
    state = MonitorState(capacity=100, max_processes=1)
    state.apply([frame([dispatch(1)], proc=boot(0))])
    bad_seq = wire.encode_frame(boot(1), -1, [])  # rejected whole, sender identifiable
    empty = wire.encode_frame(boot(2), 0, [])  # valid but empty: still a refused frame
    state.apply([bad_seq, empty, wire.encode_frame(boot(0), -1, [])])
    assert len(state.processes) == 1
    assert state.processes[key(0)].malformed == 1
    table = state.process_table
    assert (table.unknown_malformed, table.refused_frames, table.refused_events) == (1, 1, 0)
    assert state.totals.malformed == 2


def test_default_bound_is_the_module_constant():
    state = MonitorState(capacity=100)
    assert state.process_table.max_processes == MAX_PROCESSES == 4096
    state.apply([frame([heartbeat()], proc=boot(i)) for i in range(MAX_PROCESSES + 100)])
    assert len(state.processes) == MAX_PROCESSES
    assert state.process_table.refused_events == state.process_table.refused_processes == 100
    assert state.totals.malformed == 0
    state.clear()  # forgetting everything frees the whole bound again
    state.apply([frame([heartbeat()], proc=boot(i)) for i in range(MAX_PROCESSES + 1, 0, -1)])
    assert key(MAX_PROCESSES + 1) in state.processes
    assert (state.process_table.refused_frames, state.process_table.refused_processes) == (1, 1)


def test_recorder_table_refuses_without_raising():
    table = ProcessTable(max_processes=1)
    ok = wire.decode_frame(frame([heartbeat(), dispatch(1)], proc=boot(0)))
    refused = wire.decode_frame(frame([heartbeat(), dispatch(1)], proc=boot(1)))
    assert table.account(ok, 1) is not None
    assert table.account(refused, 2) is None
    assert table.bad_frame(wire.encode_frame(boot(2), -1, []), 3) is None
    assert (len(table.processes), table.events, table.malformed) == (1, 2, 1)
    assert (table.refused_frames, table.refused_events) == (1, 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6),
       st.lists(st.tuples(st.integers(0, 15), st.integers(1, 3)), min_size=1, max_size=60))
def test_table_never_exceeds_the_bound_and_every_event_is_accounted(bound, sends):
    state = MonitorState(capacity=10_000, max_processes=bound)
    next_seq: dict[int, int] = {}
    tracked: list[int] = []
    kept = refused = 0
    for b, n in sends:
        seq = next_seq.get(b, 0)
        next_seq[b] = seq + n
        state.apply([frame([dispatch(seq + k) for k in range(n)], seq=seq, proc=boot(b))])
        if b in tracked or len(tracked) < bound:
            tracked += [] if b in tracked else [b]
            kept += n
        else:
            refused += n
        assert len(state.processes) <= bound
    assert [p.boot for p in state.process_table.by_index] == [f"boot-{b}" for b in tracked]
    totals = state.totals
    assert (totals.events, totals.dispatches, totals.stored) == (kept, kept, kept)
    assert totals.malformed == state.process_table.unknown_malformed == 0
    assert state.process_table.refused_events == refused
    assert totals.lost == 0


def test_the_recorder_counts_refused_processes_once_and_says_the_table_is_full(tmp_path):
    from monitor_gui import cli_record
    from monitor_gui.core.recording import RecordingWriter

    table = ProcessTable(max_processes=2)
    events = 0
    with RecordingWriter(tmp_path / "rec.jsonl") as writer:
        for i in range(5):
            data = frame([dispatch(1), dispatch(2), heartbeat(sent=2)], proc=boot(i))
            events += cli_record._record_frame(data, table, writer, None)
    assert events == 15  # every event recorded and counted once, tracked or not
    assert (table.events, table.malformed, table.refused_events) == (6, 0, 9)
    text = cli_record._summary(events, table, "rec.jsonl")
    assert text.splitlines()[0] == ("recorded 15 events from 2 processes to rec.jsonl: "
                                    "lost 0, malformed 0")
    assert ("process table full (2 processes): 3 more processes not tracked; their 9 events "
            "in 3 frames are recorded without per-process accounting") in text

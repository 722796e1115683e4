"""Forged heartbeats and sequence numbers: impossible counters flag the process, not the totals."""

from __future__ import annotations

import pytest

from django_probe import wire
from monitor_gui import cli_record
from monitor_gui.core.processes import MAX_COUNTER, MAX_EVENTS_PER_S, ProcessTable
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, dispatch, frame, heartbeat

KEY = ("web1", 101, "boot-a")
OTHER_KEY = ("web2", 202, "boot-b")
SECOND = 1_000_000_000
MAX_U64 = 2**64 - 1


def forged(value: int = MAX_U64) -> wire.Heartbeat:
    return wire.Heartbeat(wire.KIND_HEARTBEAT, 1, value, 0, value, value, 0, 1000)


def honest_state() -> MonitorState:
    """Two processes: web1 has lost 3 (dropped by its probe), web2 is clean."""
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), heartbeat(dropped_send=3, sent=1)])], now=SECOND)
    state.apply([frame([dispatch(1)], proc=OTHER)], now=SECOND)
    return state


def test_a_heartbeat_of_max_uint64_flags_the_process_and_leaves_the_totals_alone():
    state = honest_state()
    state.apply([frame([forged()], seq=2)], now=2 * SECOND)
    info = state.processes[KEY]
    assert info.lying is not None and "beyond 2^53" in info.lying
    # The forged figures were never applied; the process's loss is out of the totals.
    assert (info.dropped_send, info.heartbeat.dropped_send) == (3, 3)
    assert (state.totals.lost, state.totals.dropped) == (0, 0)
    assert state.process_table.lying == [info]
    assert state.processes[OTHER_KEY].lying is None


def test_the_record_summary_names_the_liar_instead_of_printing_its_numbers():
    table = ProcessTable()
    for seq, events in ((0, [dispatch(1), heartbeat(dropped_send=3, sent=1)]), (2, [forged()])):
        decoded = wire.decode_frame(frame(events, seq=seq))
        table.scan(table.account(decoded, SECOND), decoded.events)
    text = cli_record._summary(3, table, "out.jsonl")
    assert str(MAX_U64) not in text.splitlines()[0]
    assert "36893488147419103232" not in text
    assert "lost 0 (not counting 1 lying)" in text
    assert "claims lost 3 (not trusted)" in text
    assert "LYING: heartbeat captured 18446744073709551615 is beyond 2^53" in text


@pytest.mark.parametrize("first, second, reason", [
    (heartbeat(dropped_send=5), heartbeat(dropped_send=4), "dropped_send went down from 5 to 4"),
    (heartbeat(dropped_queue=5), heartbeat(dropped_queue=0), "dropped_queue went down"),
    (heartbeat(captured=50), heartbeat(captured=49), "captured went down"),
    (heartbeat(sent=0), heartbeat(sent=MAX_COUNTER + 1), "sent 9007199254740993 is beyond 2^53"),
])
def test_counters_never_go_down_nor_beyond_2_53(first, second, reason):
    state = MonitorState(capacity=100)
    state.apply([frame([first])], now=SECOND)
    state.apply([frame([second], seq=1)], now=2 * SECOND)
    info = state.processes[KEY]
    assert info.lying is not None and reason in info.lying
    assert info.heartbeat == first
    assert state.totals.lost == 0


def test_sent_is_a_sequence_number_the_monitor_must_have_seen():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), dispatch(2), heartbeat(sent=2)])], now=SECOND)
    assert state.processes[KEY].lying is None  # its own number: plausible
    state.apply([frame([heartbeat(sent=1_000)], seq=3)], now=2 * SECOND)
    assert "sent 1000 is beyond the 4 sequence numbers received" in state.processes[KEY].lying


def test_growth_faster_than_any_process_can_produce_is_a_lie():
    state = MonitorState(capacity=100)
    state.apply([frame([heartbeat(captured=0)])], now=SECOND)
    # Ten seconds later (monitor clock) ten seconds' worth is fine ...
    ok = heartbeat(dropped_send=10 * MAX_EVENTS_PER_S, captured=0)
    state.apply([frame([ok], seq=1)], now=11 * SECOND)
    assert state.processes[KEY].lying is None
    assert state.totals.lost == 10 * MAX_EVENTS_PER_S
    # ... but not twice that again one second later.
    state.apply([frame([heartbeat(dropped_send=30 * MAX_EVENTS_PER_S)], seq=2)], now=12 * SECOND)
    assert "grew by" in state.processes[KEY].lying
    assert state.totals.lost == 0  # a liar's figures are not in the totals at all


def test_heartbeats_arriving_back_to_back_after_a_backlog_are_not_lies():
    state = MonitorState(capacity=100)
    beats = [heartbeat(captured=i * 1_000_000, ts=(i + 1) * SECOND) for i in range(5)]
    state.apply([frame([b], seq=i) for i, b in enumerate(beats)], now=SECOND)  # same instant
    info = state.processes[KEY]
    assert info.lying is None and info.heartbeat == beats[-1]


def test_a_forged_sequence_jump_is_not_counted_as_loss():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1)])], now=SECOND)
    state.apply([frame([dispatch(2)], seq=2**62)], now=2 * SECOND)
    info = state.processes[KEY]
    assert "sequence number 4611686018427387904 is beyond 2^53" in info.lying
    assert (info.lost_gaps, state.totals.lost) == (0, 0)
    other = MonitorState(capacity=100)
    other.apply([frame([dispatch(1)])], now=SECOND)
    other.apply([frame([dispatch(2)], seq=10**12)], now=2 * SECOND)
    assert "sequence number jumped by" in other.processes[KEY].lying
    assert other.totals.lost == 0


def test_the_real_recording_has_no_liars(real_state):
    assert real_state.process_table.lying == []
    assert any(p.heartbeat is not None for p in real_state.processes.values())

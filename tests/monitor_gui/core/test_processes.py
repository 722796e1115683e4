"""Multi-process accounting: gaps, probe drop counters, malformed per process, labels."""

from __future__ import annotations

import msgpack

from django_probe import wire
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import OTHER, PROC, dispatch, frame, heartbeat

KEY = ("web1", 101, "boot-a")


def test_sequence_gaps_are_counted_as_lost_in_transit():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), dispatch(2)], seq=10)])  # first sight: baseline, no loss
    assert state.processes[KEY].lost_gaps == 0
    state.apply([frame([dispatch(3)], seq=15)])  # 12, 13, 14 never arrived
    state.apply([frame([dispatch(4)], seq=16)])
    info = state.processes[KEY]
    assert (info.lost_gaps, info.events, info.dispatches) == (3, 4, 4)
    assert state.totals.lost == 3


def test_duplicate_or_reordered_frames_do_not_count_negative_loss():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1)], seq=5), frame([dispatch(2)], seq=3),
                 frame([dispatch(3)], seq=6)])
    assert state.processes[KEY].lost_gaps == 0


def test_heartbeat_drop_counters_are_latest_and_part_of_lost():
    state = MonitorState(capacity=100)
    state.apply([frame([heartbeat(dropped_queue=2, dropped_send=5)])])
    state.apply([frame([heartbeat(dropped_queue=3, dropped_send=7)], seq=1)])
    info = state.processes[KEY]
    assert (info.dropped_queue, info.dropped_send, info.lost) == (3, 7, 10)
    assert info.heartbeat.dropped_send == 7
    assert (state.totals.lost, state.totals.dropped) == (10, 10)


def test_processes_are_kept_apart():
    state = MonitorState(capacity=100)
    restarted = wire.Proc(101, "web1", "boot-z")  # same host:pid, new instance
    changes = state.apply([
        frame([dispatch(1)], proc=PROC), frame([dispatch(1), dispatch(2)], proc=OTHER),
        frame([dispatch(1)], seq=40, proc=restarted),
        frame([heartbeat(dropped_send=4)], seq=3, proc=OTHER),
    ])
    assert changes.processes_changed
    assert set(state.processes) == {KEY, ("web2", 202, "boot-b"), ("web1", 101, "boot-z")}
    labels = [p.label for p in state.processes.values()]
    assert labels == ["web1:101", "web2:202", "web1:101#boot-z"]
    other = state.processes[("web2", 202, "boot-b")]
    assert (other.events, other.dispatches, other.lost_gaps, other.dropped_send) == (3, 2, 1, 4)
    assert state.processes[KEY].lost == 0
    assert state.totals.lost == 5  # one gap + four dropped, all in web2


def test_malformed_events_and_frames_are_counted_per_process():
    state = MonitorState(capacity=100)
    packed = wire.encode_frame(PROC, 0, [list(dispatch(1)), ["D", "not", "a", "dispatch"], ["Z"]])
    bad_seq = wire.encode_frame(PROC, -1, [])  # whole frame rejected, sender identifiable
    wrong_version = msgpack.packb([wire.MAGIC, 99, list(OTHER), 0, []])
    # Cut short: its sender is still read from the first items.
    truncated = wire.encode_frame(PROC, 3, [list(dispatch(2))])[:-5]
    state.apply([packed, bad_seq, wrong_version, truncated, b"random junk", b"", b"\x93\xa3dsm"])
    info = state.processes[KEY]
    assert (info.events, info.malformed) == (1, 4)  # two bad events + two bad frames
    assert state.processes[("web2", 202, "boot-b")].malformed == 1
    assert state.process_table.unknown_malformed == 3
    assert state.totals.malformed == 8


def test_seq_counts_rejected_events_so_they_are_not_also_lost():
    state = MonitorState(capacity=100)
    state.apply([wire.encode_frame(PROC, 0, [list(dispatch(1)), ["bad"]])])
    state.apply([frame([dispatch(2)], seq=2)])
    info = state.processes[KEY]
    assert (info.malformed, info.lost_gaps) == (1, 0)


def test_first_and_last_seen_follow_the_monitor_clock():
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1)])], now=1_000)
    state.apply([frame([dispatch(2)], seq=1)], now=5_000)
    info = state.processes[KEY]
    assert (info.first_seen, info.last_seen) == (1_000, 5_000)

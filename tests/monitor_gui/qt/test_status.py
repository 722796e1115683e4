"""The status bar says when the process table is full, a process lies or speaks another version."""

from __future__ import annotations

import msgpack

from django_probe import wire
from monitor_gui.core import hold
from monitor_gui.core.state import MonitorState
from monitor_gui.qt.controller import MonitorController
from monitor_gui.qt.status import StatusBar
from tests.monitor_gui.core.events import PROC, Interning, dispatch, frame, heartbeat


def boot(i: int) -> wire.Proc:
    return wire.Proc(101, "web1", f"boot-{i}")


def status_of(qtbot, state: MonitorState) -> StatusBar:
    bar = StatusBar(MonitorController(state), None)
    qtbot.addWidget(bar)
    bar.refresh()
    return bar


def test_a_healthy_monitor_shows_no_warning(qtbot):
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), heartbeat(sent=1)])])
    label = status_of(qtbot, state).labels["processes"]
    assert label.text() == "1 process" and label.toolTip() == ""


def test_a_full_process_table_is_shown_with_what_was_refused(qtbot):
    state = MonitorState(capacity=100, max_processes=2)
    state.apply([frame([dispatch(1), dispatch(2)], proc=boot(i)) for i in range(5)])
    label = status_of(qtbot, state).labels["processes"]
    assert "2 processes" in label.text() and "table full" in label.text()
    assert ("Process table full (2 processes): 3 more not tracked, their 6 events in 3 frames "
            "refused.") in label.toolTip()


def test_a_lying_process_is_named_and_left_out_of_lost(qtbot):
    state = MonitorState(capacity=100)
    state.apply([frame([dispatch(1), heartbeat(dropped_send=2, sent=1)])], now=10**9)
    forged = wire.Heartbeat("H", 2, 2**64 - 1, 0, 2**64 - 1, 2**64 - 1, 0, 1000)
    state.apply([frame([forged], seq=2)], now=2 * 10**9)
    bar = status_of(qtbot, state)
    label = bar.labels["processes"]
    assert "1 lying" in label.text()
    assert "web1:101 lies: heartbeat captured 18446744073709551615 is beyond 2^53" in (
        label.toolTip())
    assert "lost 0" in bar.labels["lost"].text()
    assert "not counting 1 process whose heartbeats are impossible" in (
        bar.labels["lost"].toolTip())


def test_a_probe_of_another_protocol_version_is_explained(qtbot):
    state = MonitorState(capacity=100)
    state.apply([msgpack.packb(["dsm", 3, list(PROC), 0, []])])
    label = status_of(qtbot, state).labels["processes"]
    assert "protocol mismatch" in label.text()
    assert "protocol version 3 from the probe, this monitor speaks 4" in label.toolTip()


def test_events_held_for_names_never_defined_are_shown_as_lost(qtbot):
    sender = Interning()
    sender.frames([dispatch(1)])  # the definitions this monitor never receives
    state = MonitorState(capacity=100)
    state.apply(sender.frames([dispatch(2)]), now=1)  # ids only: it waits, then is dropped
    state.apply([], now=2 + hold.MAX_HELD_NS)
    bar = status_of(qtbot, state)
    assert "lost 1" in bar.labels["lost"].text()
    assert "0 lost in transit, 0 dropped by the probe, 1 held here for names never defined" in (
        bar.labels["lost"].toolTip())

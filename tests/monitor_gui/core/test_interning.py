"""Protocol 2: names arrive as ids, resolved per process; frames wait (bounded) for definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_probe import wire
from monitor_gui import cli_record
from monitor_gui.core import decode, hold
from monitor_gui.core.processes import MAX_INFO_CHARS, ProcessTable
from monitor_gui.core.recording import RecordingWriter, read_recording
from monitor_gui.core.state import MonitorState
from tests.monitor_gui.core.events import (
    OTHER,
    PROC,
    Interning,
    dispatch,
    frame,
    heartbeat,
    receiver,
)

KEY = ("web1", 101, "boot-a")
S = 1_000_000_000


def traffic(n: int = 6) -> list[wire.Dispatch]:
    return [dispatch(i, parent=i + 1 if i % 3 == 0 else None, signal=f"app.sig{i % 4}",
                     sender=f"app.Model{i % 2}", thread=f"T{i % 2}",
                     request=f"req-{i // 2}" if i % 5 else None,
                     receivers=[receiver(), receiver("audit", "app.audit", outcome=wire.RAISED,
                                                     exc=("app.AuditError", "down"))])
            for i in range(1, n + 1)]


def rows(state: MonitorState) -> list[wire.Dispatch]:
    return [state.store.row(r).to_dispatch() for r in range(state.store.first, state.store.end)]


def edges(state: MonitorState) -> list[tuple]:
    return sorted((e.key, e.count, e.errors, e.total_ns, e.last_ts) for e in state.graph.edges())


def test_interned_frames_store_exactly_what_the_strings_would():
    events = traffic()
    plain, interned = MonitorState(100), MonitorState(100)
    plain.apply([frame(events[:3]), frame(events[3:], seq=3)])
    sender = Interning()
    frames = sender.frames(events[:3]) + sender.frames(events[3:])
    assert len(frames) == 4  # each frame with new names follows their Strings frame
    interned.apply(frames)
    assert rows(interned) == rows(plain) and len(rows(plain)) == 6
    assert edges(interned) == edges(plain)
    info = interned.processes[KEY]
    assert (info.events, info.dispatches, info.lost, info.unresolved) == (8, 6, 0, 0)


def test_counts_and_topology_names_are_resolved_too():
    sender = Interning()
    counts = wire.Counts(wire.KIND_COUNTS, 5, S, [
        wire.EmptyCount("app.sig", "app.Model", "send", 3)])
    topo = wire.Topology(wire.KIND_TOPOLOGY, 5, [wire.SignalWiring("app.sig", [
        wire.ConnectedReceiver("on_it", "app.receivers", "app/r.py", 1, False, "app.Model",
                               True)])])
    state = MonitorState(100)
    state.apply(sender.frames([counts, topo]))
    assert state.empty_counts == {("app.sig", "app.Model", "send"): 3}
    assert state.signals["app.sig"].known
    assert state.topology[KEY].signals[0].receivers[0].sender == "app.Model"


def again(events: list[wire.Dispatch], offset: int = 100) -> list[wire.Dispatch]:
    """The same names in new dispatches (no new definitions needed)."""
    return [e._replace(id=e.id + offset, parent=None) for e in events]


def test_a_monitor_that_starts_late_holds_frames_until_the_definitions_come_again():
    sender = Interning()
    sender.frames(traffic())  # this monitor missed the Strings frame and the first frame
    late = [sender.frames([e])[0] for e in again(traffic())[1:]]
    state = MonitorState(100)
    changes = state.apply(late[:2], now=S)
    info = state.processes[KEY]
    assert changes.appended == 0 and len(info.held) == 2  # waiting, in order
    changes = state.apply(late[2:], now=2 * S)
    assert changes.appended == 0 and len(info.held) == 5
    changes = state.apply([sender.definitions()], now=3 * S)  # the periodic resend
    assert changes.appended == 5 and not info.held
    assert [r.id for r in rows(state)] == [102, 103, 104, 105, 106]  # in the order sent
    assert rows(state)[0].signal == "app.sig2"
    assert (info.lost, info.unresolved, state.totals.lost) == (0, 0, 0)
    assert state.process_table.holds.bytes == 0


def test_one_waiting_process_does_not_hold_back_another():
    waiting, other = Interning(PROC), Interning(OTHER)
    waiting.frames(traffic(1))
    state = MonitorState(100)
    changes = state.apply([waiting.frames(traffic(2)[1:])[-1], *other.frames(traffic(2))])
    assert changes.appended == 2
    assert {state.store.row(r).proc_key for r in range(state.store.end)} == {
        ("web2", 202, "boot-b")}


def test_frames_waiting_too_long_are_dropped_counted_and_the_next_ones_applied():
    sender = Interning()
    sender.frames(traffic(3))  # missed
    state = MonitorState(100)
    state.apply(sender.frames(again(traffic(1))), now=S)
    info = state.processes[KEY]
    assert len(info.held) == 1
    state.apply([sender.definitions()], now=2 * S)  # definitions arrive: it resolves
    assert not info.held and len(state.store) == 1
    # A frame whose ids are never defined waits at most MAX_HELD_NS, then is counted.
    never = sender.frame([wire.Dispatch(*again(traffic(1), 200)[0])._replace(signal=60_000)])
    state.apply([never], now=3 * S)
    state.apply(sender.frames(again(traffic(2), 300)[1:]), now=4 * S)
    assert len(info.held) == 2 and len(state.store) == 1  # the next frame waits behind it
    changes = state.apply([], now=3 * S + hold.MAX_HELD_NS + 1)
    assert changes.appended == 1 and not info.held
    assert (info.unresolved, info.lost, state.totals.unresolved, state.totals.lost) == (1, 1, 1, 1)


def test_the_hold_is_bounded_per_process_dropping_the_oldest(monkeypatch):
    monkeypatch.setattr(hold, "MAX_HELD_BYTES", 3_000)
    sender = Interning()
    sender.frames(traffic(1))  # missed
    waiting = [sender.frames([e])[0] for e in again(traffic(1) * 29)]
    state = MonitorState(100)
    state.apply(waiting, now=S)
    info = state.processes[KEY]
    assert 0 < info.held_bytes <= 3_000
    assert info.unresolved == 29 - len(info.held) > 0
    assert state.process_table.holds.bytes == info.held_bytes
    state.apply([sender.definitions()], now=S)
    assert len(state.store) == 29 - info.unresolved  # the newest ones, in order
    assert len(rows(state)) == len(info.held or []) + len(state.store) > 0


def test_vocabularies_are_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(decode, "MAX_VOCABULARY_BYTES", 100)
    big = wire.encode_frame(PROC, 0, [wire.Strings(wire.KIND_STRINGS, 0, ["x" * 60] * 2)])
    small = wire.encode_frame(PROC, 1, [wire.Strings(wire.KIND_STRINGS, 0, ["a", "b"])])
    again = wire.encode_frame(PROC, 2, [wire.Strings(wire.KIND_STRINGS, 0, ["a", "b"])])
    state = MonitorState(100)
    state.apply([big, small, again])
    info = state.processes[KEY]
    assert info.vocabulary.values == ["a", "b"] and info.vocabulary_bytes == 2
    assert state.process_table.holds.definer.refused == 1
    assert info.events == 3  # Strings events count in the sequence like any other


def test_hello_info_kept_is_bounded():
    info = {f"key{i:03}": "v" * wire.MAX_STR for i in range(256)}
    state = MonitorState(100)
    state.apply([frame([wire.Hello(wire.KIND_HELLO, 1, info)])])
    kept = state.processes[KEY].info
    assert 0 < sum(len(k) + len(v) for k, v in kept.items()) <= MAX_INFO_CHARS
    assert list(kept) == list(info)[:len(kept)]


def test_the_recorder_writes_resolved_names_and_keeps_sequence_numbers(tmp_path: Path):
    sender = Interning()
    frames = sender.frames(traffic(3)) + sender.frames([heartbeat(sent=4)])
    table = ProcessTable()
    path = tmp_path / "rec.jsonl"
    writer = RecordingWriter(path)
    written = sum(cli_record._record_frame(f, table, writer, None) for f in frames)
    writer.close()
    assert written == 5  # Strings, 3 dispatches, heartbeat
    text = path.read_text()
    assert "app.sig1" in text and '"values":[]' in text  # definitions are not needed there
    back = list(read_recording(path))
    events = [e for f in back for e in f.events]
    assert [e for e in events if e[0] == wire.KIND_DISPATCH] == traffic(3)
    state = MonitorState(100)
    state.apply(back)
    assert (state.totals.lost, state.totals.dispatches, state.totals.malformed) == (0, 3, 0)


def test_the_recorder_counts_what_never_resolved(tmp_path: Path):
    sender = Interning()
    sender.frames(traffic(3))  # missed
    waiting = sender.frames(again(traffic(3))[1:])[0]
    table = ProcessTable()
    writer = RecordingWriter(tmp_path / "rec.jsonl")
    assert cli_record._record_frame(waiting, table, writer, None) == 0
    table.holds.flush()  # the recorder stops
    writer.close()
    assert table.unresolved == 2 and table.lost == 2
    summary = cli_record._summary(0, table, "rec.jsonl")
    assert "unresolved 2" in summary and "2 unresolved" in summary


@pytest.mark.parametrize("bad", [b"\x91" * 50_000, b"\x95\xa3dsm\x02" + b"\x91" * 50_000])
def test_deep_nesting_is_a_wire_error(bad):
    with pytest.raises(wire.WireError):
        decode.decode(bad)


def test_clear_keeps_the_names_processes_defined():
    sender = Interning()
    state = MonitorState(100)
    state.apply(sender.frames(traffic(2)))
    state.clear()
    changes = state.apply(sender.frames(again(traffic(2))))  # ids only: no new names
    assert changes.appended == 2 and rows(state)[0].signal == "app.sig1"
